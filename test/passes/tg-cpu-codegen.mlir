// RUN: tgraph-opt %s --tg-cpu-codegen='threads=1 vector-width=8' | filecheck %s
// RUN: tgraph-opt %s --tg-cpu-codegen='threads=1 vector-width=16' | filecheck %s --check-prefix=AVX512

// Plans, applies and erases the CPU codegen script: the matmul becomes 4x16 register tiles of
// outer products carried across the k loop, the elementwise exp rows of 32-lane vectors. With
// 8-lane vectors (AVX2: 16 registers) a register tile has at most 6 rows of 2 vectors (here 4, a
// divisor of 16); with AVX-512's 32 registers, 8 rows.
// AVX512-LABEL: func.func @matmul
// AVX512: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<8x16xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c4 iter_args
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<4x16xf32>, vector<4x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}} = %[[ACC]]) -> (vector<4x16xf32>)
// CHECK: vector.outerproduct {{.*}} : vector<4xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<4x16xf32>, tensor<4x16xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @matmul(%a: tensor<16x32xf32>, %b: tensor<32x16xf32>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x16xf32>) outs(%c : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// bf16 operands summed in f32 (tg.dot_general with preferred_element_type f32): the same register
// tiles. Each k step reads a bf16 column of A and row of B and extends them to f32 in registers
// (the extension is folded out of the contraction: once per vector, not per product).
// CHECK-LABEL: func.func @mixed_precision_matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<4x16xf32>)
// CHECK: %[[COLUMN:.*]] = arith.extf %{{.*}} : vector<4xbf16> to vector<4xf32>
// CHECK: %[[ROW:.*]] = arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: vector.outerproduct %[[COLUMN]], %[[ROW]], %{{.*}} : vector<4xf32>, vector<16xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @mixed_precision_matmul(%a: tensor<16x32xbf16>, %b: tensor<32x16xbf16>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<16x32xbf16>, tensor<32x16xbf16>) outs(%c : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// CHECK-LABEL: func.func @exp
// CHECK-NOT: linalg.generic
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: vector.transfer_read {{.*}} : tensor<1x32xf32>, vector<32xf32>
// CHECK: math.exp %{{.*}} : vector<32xf32>
// CHECK: vector.transfer_write {{.*}} : vector<32xf32>, tensor<1x32xf32>
// The script and the codegen tags are gone.
// CHECK-NOT: linalg.generic
// CHECK-NOT: tg.codegen
// CHECK-NOT: tg.planned
// CHECK-NOT: transform.
func.func @exp(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %e = tensor.empty() : tensor<4x64xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.exp %in : f32
    linalg.yield %1 : f32
  } -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}
