// RUN: tgraph-opt %s --tg-to-linalg | filecheck %s
// RUN: tgraph-opt %s --tg-to-linalg | filecheck %s --check-prefix=NONE-LEFT
// RUN: tgraph-opt %s --tg-to-linalg | filecheck %s --check-prefix=UNROUNDED

// Every tg op is gone: elementwise ops are parallel linalg.generic ops (which upstream fusion
// merges), contractions named linalg ops where the dimensions fit, the rest generic or tensor ops.
// NONE-LEFT-NOT: "tg.
// CHECK-DAG: #[[TRANSPOSED:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[REVERSED:.*]] = affine_map<(d0) -> (-d0 + 5)>

// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: arith.addf
func.func @elementwise(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "tg.exp"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "tg.add"(%0, %y) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// f16 computes in f32 and rounds the result.
// CHECK-LABEL: func.func @half
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NEXT: math.tanh %{{.*}} : f32
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to f16
func.func @half(%x: tensor<4xf16>) -> tensor<4xf16> {
  %0 = "tg.tanh"(%x) : (tensor<4xf16>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// CHECK-LABEL: func.func @contractions
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[Z]] : tensor<2x4xf32>)
// CHECK: linalg.batch_matmul ins(%arg2, %arg3 : tensor<5x2x3xf32>, tensor<5x3x4xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @contractions(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<5x2x3xf32>, %d: tensor<5x3x4xf32>) -> (tensor<2x4xf32>, tensor<5x2x4xf32>, tensor<3x3xf32>) {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = "tg.dot_general"(%c, %d) {lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>, lhs_contract = array<i64: 2>, rhs_contract = array<i64: 1>} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  %2 = "tg.dot_general"(%a, %a) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 0>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<5x2x4xf32>, tensor<3x3xf32>
}

// A preferred_element_type (mixed precision): the bf16 operands are extended to f32 in the loop
// body (a named op extends them itself: its operands bf16, its accumulator f32), the products are
// summed in f32, and the f32 sums are the result, not rounded back to bf16.
// CHECK-LABEL: func.func @mixed_precision
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[MATMUL:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<2x3xbf16>, tensor<3x4xbf16>) outs(%[[ZERO]] : tensor<2x4xf32>)
// CHECK: %[[GENERIC:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %arg2 : tensor<2x3xbf16>, tensor<4x3xbf16>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: bf16, %[[B:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[WIDE_A:.*]] = arith.extf %[[A]] : bf16 to f32
// CHECK-NEXT: %[[WIDE_B:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT: %[[PRODUCT:.*]] = arith.mulf %[[WIDE_A]], %[[WIDE_B]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC]], %[[PRODUCT]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: %[[CONV:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%arg3, %arg4 : tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) outs(%{{.*}} : tensor<1x3x3x3xf64>)
// CHECK: return %[[MATMUL]], %[[GENERIC]], %[[CONV]] : tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x3x3x3xf64>
// UNROUNDED-LABEL: func.func @mixed_precision
// UNROUNDED-NOT: arith.truncf
// UNROUNDED: return
func.func @mixed_precision(%a: tensor<2x3xbf16>, %b: tensor<3x4xbf16>, %t: tensor<4x3xbf16>, %x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x3x3x3xf64>) {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>, preferred_element_type = f32} : (tensor<2x3xbf16>, tensor<3x4xbf16>) -> tensor<2x4xf32>
  %1 = "tg.dot_general"(%a, %t) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 1>, preferred_element_type = f32} : (tensor<2x3xbf16>, tensor<4x3xbf16>) -> tensor<2x4xf32>
  %2 = "tg.conv2d"(%x, %w) {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, lhs_dilation = array<i64: 1, 1>, rhs_dilation = array<i64: 1, 1>, groups = 1, preferred_element_type = f64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf64>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x3x3x3xf64>
}

// CHECK-LABEL: func.func @reductions
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEG_INF]] : f32)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK: arith.maximumf
func.func @reductions(%x: tensor<2x3xf32>) -> (tensor<2xf32>, tensor<3xf32>) {
  %0 = "tg.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  %1 = "tg.reduce_max"(%x) {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<2xf32>, tensor<3xf32>
}

// A float sum of more than 1024 terms is blocked: the terms that do not fill a block of 256 are
// summed into the accumulator, the rest in blocks of 256, and then the 1003 block sums go into
// the same accumulator. Adjacent reduced axes are merged first.
// CHECK-LABEL: func.func @blocked_sum
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<3xf32>
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<1000x257x3xf32> into tensor<257000x3xf32>
// CHECK: %[[TAIL:.*]] = tensor.extract_slice %{{.*}}[256768, 0] [232, 3] [1, 1]
// CHECK: %[[WITH_TAIL:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%[[TAIL]] : tensor<232x3xf32>) outs(%[[ZERO]] : tensor<3xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1003, 256, 3] : tensor<256768x3xf32> into tensor<1003x256x3xf32>
// CHECK: %[[BLOCK_SUMS:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.*}} : tensor<1003x256x3xf32>) outs(%{{.*}} : tensor<1003x3xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%[[BLOCK_SUMS]] : tensor<1003x3xf32>) outs(%[[WITH_TAIL]] : tensor<3xf32>)
func.func @blocked_sum(%x: tensor<1000x257x3xf32>) -> tensor<3xf32> {
  %0 = "tg.reduce_sum"(%x) {axes = array<i64: 0, 1>} : (tensor<1000x257x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// Padding is materialized once (a fill and an insert); groups use the grouped named convolution.
// CHECK-LABEL: func.func @convolution
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1]
// CHECK: linalg.conv_2d_ngchw_gfchw {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x2x2x10x10xf32>, tensor<2x3x2x3x3xf32>)
// CHECK: linalg.pooling_nchw_max {{.*}}strides = dense<2>
// CHECK: linalg.pooling_nchw_sum
func.func @convolution(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) -> (tensor<1x6x8x8xf32>, tensor<1x4x4x4xf32>, tensor<1x4x7x7xf32>) {
  %0 = "tg.conv2d"(%x, %w) {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, lhs_dilation = array<i64: 1, 1>, rhs_dilation = array<i64: 1, 1>, groups = 2} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x8xf32>
  %1 = "tg.max_pool2d"(%x) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = "tg.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x7x7xf32>
  return %0, %1, %2 : tensor<1x6x8x8xf32>, tensor<1x4x4x4xf32>, tensor<1x4x7x7xf32>
}

// CHECK-LABEL: func.func @shapes
// CHECK: linalg.generic {indexing_maps = [#[[TRANSPOSED]], #{{.*}}]
// CHECK: linalg.generic {indexing_maps = [#[[REVERSED]], #{{.*}}]
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: tensor.extract_slice %arg0[1, 0] [1, 3] [1, 1]
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[1, 0] [2, 3] [2, 1] : tensor<2x3xf32> into tensor<5x3xf32>
func.func @shapes(%x: tensor<2x3xf32>, %v: tensor<6xf32>) -> (tensor<3x2xf32>, tensor<6xf32>, tensor<6xf32>, tensor<1x3xf32>, tensor<5x3xf32>) {
  %0 = "tg.transpose"(%x) {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = "tg.reverse"(%v) {axes = array<i64: 0>} : (tensor<6xf32>) -> tensor<6xf32>
  %2 = "tg.reshape"(%x) {shape = array<i64: 6>} : (tensor<2x3xf32>) -> tensor<6xf32>
  %3 = "tg.slice"(%x) {start = array<i64: 1, 0>, limit = array<i64: 2, 3>, stride = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  %4 = "tg.pad"(%x) {low = array<i64: 1, 0>, high = array<i64: 1, 0>, interior = array<i64: 1, 0>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<5x3xf32>
  return %0, %1, %2, %3, %4 : tensor<3x2xf32>, tensor<6xf32>, tensor<6xf32>, tensor<1x3xf32>, tensor<5x3xf32>
}

// Indices are clamped to [0, rows - 1]; scatter_add adds row by row in index order.
// CHECK-LABEL: func.func @indexing
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %arg0
// CHECK: scf.for
// CHECK: tensor.insert_slice
// CHECK: scf.yield
func.func @indexing(%t: tensor<5x3xf32>, %i: tensor<4xi32>, %u: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<5x3xf32>) {
  %0 = "tg.gather"(%t, %i) : (tensor<5x3xf32>, tensor<4xi32>) -> tensor<4x3xf32>
  %1 = "tg.scatter_add"(%i, %u) {rows = 5} : (tensor<4xi32>, tensor<4x3xf32>) -> tensor<5x3xf32>
  return %0, %1 : tensor<4x3xf32>, tensor<5x3xf32>
}

// Float to integer saturates and sends NaN to 0; random numbers hash the element's position.
// CHECK-LABEL: func.func @conversions
// CHECK: arith.cmpf uno
// CHECK: arith.fptosi
// CHECK: arith.select
// CHECK: linalg.generic {{.*}}outs(
// CHECK: linalg.index 0
// CHECK: arith.uitofp
func.func @conversions(%x: tensor<3xf32>, %k: tensor<i32>) -> (tensor<3xi32>, tensor<3xf32>, tensor<3xf32>) {
  %0 = "tg.cast"(%x) {dtype = i32} : (tensor<3xf32>) -> tensor<3xi32>
  %1 = "tg.random_uniform"(%k) {shape = array<i64: 3>, dtype = f32} : (tensor<i32>) -> tensor<3xf32>
  %2 = "tg.stop_gradient"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %2 : tensor<3xi32>, tensor<3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @constants
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: linalg.fill
func.func @constants() -> (tensor<2xf32>, tensor<2x2xf64>) {
  %0 = "tg.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %1 = "tg.splat"() {value = 3.0 : f64, shape = array<i64: 2, 2>, dtype = f64} : () -> tensor<2x2xf64>
  return %0, %1 : tensor<2xf32>, tensor<2x2xf64>
}
