// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-plan-cpu-codegen{threads=2 vector-width=16})' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-cpu-codegen{threads=2 vector-width=16}, canonicalize, cse)' | filecheck %s --check-prefix=APPLIED

// The plan tags each linalg op with its strategy and appends the transform script that applies it.
// CHECK-LABEL: func.func @f
// CHECK: linalg.matmul {tg.codegen = "op0", tg.planned}
// CHECK: linalg.generic {{.*}} {tg.codegen = "op1", tg.planned}
// CHECK: transform.named_sequence @__transform_main
// One match finds every planned op (in IR order); its handle is split into one handle per op.
// CHECK-NEXT: %[[PLANNED:.*]] = transform.structured.match attributes {tg.planned}
// CHECK-NEXT: %[[OPS:.*]]:2 = transform.split_handle %[[PLANNED]]
// The contraction: two threads over rows, cache tiles, an 8x32 register tile, the k loop innermost.
// CHECK: transform.structured.tile_using_forall %[[OPS]]#0 tile_sizes [64, 0, 0]
// CHECK: transform.structured.tile_using_for %{{.*}} tile_sizes [8, 32, 0]
// CHECK: transform.structured.tile_using_for %{{.*}} tile_sizes [0, 0, 1]
// CHECK: transform.structured.vectorize
// CHECK: transform.annotate %{{.*}} "tg.k_loop"
// The elementwise tanh: rows of 64 lanes, vectorized.
// CHECK: transform.structured.tile_using_for %[[OPS]]#1 tile_sizes [1, 64]
// CHECK: transform.structured.vectorize
// CHECK: transform.loop.hoist_loop_invariant_subsets
// CHECK: transform.apply_patterns.vector.lower_contraction

// Applied: vector outer products accumulate into a register tile carried across the k loop.
// APPLIED-LABEL: func.func @f
// APPLIED: scf.forall
// APPLIED: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// APPLIED: vector.outerproduct {{.*}} : vector<8xf32>, vector<32xf32>
// APPLIED: math.tanh {{.*}} : vector<64xf32>
// APPLIED-NOT: transform.
// APPLIED-NOT: tg.codegen
// APPLIED-NOT: tg.planned
func.func @f(%a: tensor<128x64xf32>, %b: tensor<64x128xf32>) -> tensor<128x128xf32> {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<128x64xf32>, tensor<64x128xf32>) -> tensor<128x128xf32>
  %1 = "tg.tanh"(%0) : (tensor<128x128xf32>) -> tensor<128x128xf32>
  return %1 : tensor<128x128xf32>
}
