// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-conv-to-matmul, canonicalize)' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, tg-conv-to-matmul{max-columns=100}, canonicalize)' | filecheck %s --check-prefix=DIRECT

// im2col: [c, kh, kw, n, oh, ow] columns, one copy per kernel offset (a window of x, transposed to
// [c, n, oh, ow], into its slot), one matmul [f, c*kh*kw] x [c*kh*kw, n*oh*ow], then the [f, n]
// dimensions swapped back.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: %[[WIN:.*]] = tensor.extract_slice %arg0[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1] : tensor<2x3x6x6xf32> to tensor<2x3x4x4xf32>
// CHECK: %[[SLOT:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0, 0] [3, 1, 1, 2, 4, 4] [1, 1, 1, 1, 1, 1] : tensor<3x3x3x2x4x4xf32> to tensor<3x2x4x4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[WIN]] : tensor<2x3x4x4xf32>) outs(%[[SLOT]] : tensor<3x2x4x4xf32>)
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0, 0, 0] [3, 1, 1, 2, 4, 4]
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 1] [2, 3, 4, 4]
// CHECK-COUNT-7: tensor.insert_slice
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 2, 2, 0, 0, 0] [3, 1, 1, 2, 4, 4]
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

// A kernel larger than the output (the weight gradients the AD rules write as convolutions): one
// copy per output position into [n, oh, ow, c, kh, kw] columns, one matmul
// [n*oh*ow, c*kh*kw] x [c*kh*kw, f] with the weights transposed, then [n, f] in place.
// CHECK-LABEL: func.func @big_kernel
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 0] [2, 3, 5, 5] [1, 1, 1, 1] : tensor<2x3x6x6xf32> to tensor<2x3x5x5xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0, 0, 0] [2, 1, 1, 3, 5, 5]
// CHECK-COUNT-3: tensor.insert_slice
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x75xf32>) outs(%{{.*}} : tensor<75x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x75xf32>, tensor<75x4xf32>) outs(%{{.*}} : tensor<8x4xf32>)
// CHECK: return %{{.*}} : tensor<2x4x2x2xf32>
func.func @big_kernel(%x: tensor<2x3x6x6xf32>, %w: tensor<4x3x5x5xf32>) -> tensor<2x4x2x2xf32> {
  %0 = "tg.conv2d"(%x, %w) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x6x6xf32>, tensor<4x3x5x5xf32>) -> tensor<2x4x2x2xf32>
  return %0 : tensor<2x4x2x2xf32>
}

// Few filters over many output positions: the columns are read transposed, so the long dimension
// (n*oh*ow) is the contraction's rows: product[(n, p, q), f] = col^T @ W^T.
// CHECK-LABEL: func.func @few_filters
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x27xf32>) outs(%{{.*}} : tensor<27x4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<27x128xf32>, tensor<27x4xf32>) outs(%{{.*}} : tensor<128x4xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: return %{{.*}} : tensor<2x4x8x8xf32>
func.func @few_filters(%x: tensor<2x3x10x10xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32> {
  %0 = "tg.conv2d"(%x, %w) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x10x10xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  return %0 : tensor<2x4x8x8xf32>
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
