// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, linalg-fuse-elementwise-ops, func.func(linalg-fold-unit-extent-dims{use-rank-reducing-slices=false}), canonicalize, tg-plan-cpu-codegen{threads=2 vector-width=16})' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, linalg-fuse-elementwise-ops, func.func(linalg-fold-unit-extent-dims{use-rank-reducing-slices=false}), canonicalize, tg-cpu-codegen{threads=2 vector-width=16}, canonicalize, cse)' | filecheck %s --check-prefix=APPLIED

// Softmax over rows: the division (op0) with the row max, the exp and the row sum it reads
// form one row group. The division is tiled over threads, then over blocks of 8 rows, and each
// producer (latest first) is fused into each loop in turn; then each op is vectorized.
// CHECK-LABEL: func.func @softmax
// CHECK-COUNT-4: tg.codegen = "op{{[0-3]}}", tg.planned
// The split handle holds the ops in IR order: the division (op0) comes last.
// CHECK: %[[PLANNED:.*]] = transform.structured.match attributes {tg.planned}
// CHECK-NEXT: %[[OPS:.*]]:4 = transform.split_handle %[[PLANNED]]
// CHECK-NEXT: %{{.*}}, %[[FORALL:.*]] = transform.structured.tile_using_forall %[[OPS]]#3 tile_sizes [128, 0]
// CHECK-NEXT: %{{.*}}, %[[ROWS:.*]] = transform.structured.tile_using_for %{{.*}} tile_sizes [8, 0]
// CHECK: transform.structured.fuse_into_containing_op %{{.*}} into %[[FORALL]]
// CHECK-COUNT-2: transform.structured.fuse_into_containing_op
// CHECK-NEXT: transform.structured.fuse_into_containing_op %{{.*}} into %[[ROWS]]
// CHECK-COUNT-2: transform.structured.fuse_into_containing_op
// CHECK: transform.apply_patterns.tensor.fold_tensor_empty
// CHECK: transform.structured.tile_reduction_using_for

// Applied: each block of 8 rows goes through max, exp, sum and division before the next; the
// max and the sum keep 16-lane partial results.
// APPLIED-LABEL: func.func @softmax
// APPLIED: scf.forall
// APPLIED: scf.for %{{.*}} step %c8
// APPLIED: arith.maximumf {{.*}} : vector<16xf32>
// APPLIED: math.exp {{.*}} : vector<64xf32>
// APPLIED: arith.addf {{.*}} : vector<16xf32>
// APPLIED: arith.divf {{.*}} : vector<64xf32>
// APPLIED-NOT: transform.
func.func @softmax(%arg0: tensor<256x512xf32>) -> tensor<256x512xf32> {
  %0 = "tg.reduce_max"(%arg0) {axes = array<i64: 1>} : (tensor<256x512xf32>) -> tensor<256xf32>
  %1 = "tg.reshape"(%0) {shape = array<i64: 256, 1>} : (tensor<256xf32>) -> tensor<256x1xf32>
  %2 = "tg.broadcast_in_dim"(%1) {dims = array<i64: 0, 1>, shape = array<i64: 256, 512>} : (tensor<256x1xf32>) -> tensor<256x512xf32>
  %3 = "tg.sub"(%arg0, %2) : (tensor<256x512xf32>, tensor<256x512xf32>) -> tensor<256x512xf32>
  %4 = "tg.exp"(%3) : (tensor<256x512xf32>) -> tensor<256x512xf32>
  %5 = "tg.reduce_sum"(%4) {axes = array<i64: 1>} : (tensor<256x512xf32>) -> tensor<256xf32>
  %6 = "tg.reshape"(%5) {shape = array<i64: 256, 1>} : (tensor<256xf32>) -> tensor<256x1xf32>
  %7 = "tg.broadcast_in_dim"(%6) {dims = array<i64: 0, 1>, shape = array<i64: 256, 512>} : (tensor<256x1xf32>) -> tensor<256x512xf32>
  %8 = "tg.div"(%4, %7) : (tensor<256x512xf32>, tensor<256x512xf32>) -> tensor<256x512xf32>
  return %8 : tensor<256x512xf32>
}
