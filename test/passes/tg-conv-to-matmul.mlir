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
