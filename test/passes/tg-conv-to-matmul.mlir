// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-conv-to-matmul, canonicalize)' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-conv-to-matmul{max-columns=100}, canonicalize)' | filecheck %s --check-prefix=DIRECT

// im2col: a copy into [c, kh, kw, n, oh, ow] columns with additive indexing, one matmul
// [f, c*kh*kw] x [c*kh*kw, n*oh*ow], then the [f, n] dimensions swapped back.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3x6x6xf32>) outs(%{{.*}} : tensor<3x3x3x2x4x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x27xf32>, tensor<27x32xf32>) outs(%{{.*}} : tensor<5x32xf32>)
// CHECK: linalg.generic
// CHECK: return %{{.*}} : tensor<2x5x4x4xf32>

// Past the column limit the convolution stays direct.
// DIRECT-LABEL: func.func @conv
// DIRECT: linalg.conv_2d_nchw_fchw
func.func @conv(%x: tensor<2x3x6x6xf32>, %w: tensor<5x3x3x3xf32>) -> tensor<2x5x4x4xf32> {
  %0 = "tg.conv2d"(%x, %w) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x6x6xf32>, tensor<5x3x3x3xf32>) -> tensor<2x5x4x4xf32>
  return %0 : tensor<2x5x4x4xf32>
}

// A preferred_element_type: the weights and the columns are extended to it (here f32 -> f64) and
// the matmul sums in it.
// CHECK-LABEL: func.func @conv_preferred
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3x18xf32>) outs(%{{.*}} : tensor<3x18xf64>)
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<18x9xf32>) outs(%{{.*}} : tensor<18x9xf64>)
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x18xf64>, tensor<18x9xf64>) outs(%{{.*}} : tensor<3x9xf64>)
// CHECK: return %{{.*}} : tensor<1x3x3x3xf64>
func.func @conv_preferred(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf64> {
  %0 = "tg.conv2d"(%x, %w) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, preferred_element_type = f64, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf64>
  return %0 : tensor<1x3x3x3xf64>
}
