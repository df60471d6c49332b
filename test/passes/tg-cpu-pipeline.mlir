// RUN: tgraph-opt %s --tg-cpu-pipeline | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-cpu-pipeline)' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, canonicalize, linalg-fuse-elementwise-ops)' | filecheck %s --check-prefix=FUSED

// The pipeline ends in the LLVM dialect: a C interface per function, results as trailing
// out-parameters (the two results' descriptors follow the two inputs'), nothing else left; tanh
// is arithmetic (tg-approximate-math), not a libm call.
// CHECK-NOT: "tg.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-LABEL: llvm.func @f(
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-NOT: llvm.intr.tanh
// CHECK-NOT: llvm.call @tanhf
// CHECK: llvm.fdiv
// CHECK-LABEL: llvm.func @_mlir_ciface_f(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr)
// CHECK-NOT: linalg.

// Elementwise fusion: mul and tanh become one parallel generic; the reduction reads its result.
// FUSED-LABEL: func.func @f
// FUSED: linalg.generic {{.*}}iterator_types = ["parallel"]
// FUSED-NEXT: ^bb0
// FUSED-NEXT: arith.mulf
// FUSED-NEXT: math.tanh
// FUSED-NEXT: linalg.yield
// FUSED: linalg.generic {{.*}}iterator_types = ["reduction"]
func.func @f(%x: tensor<3xf32>, %w: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>) {
  %0 = "tg.mul"(%x, %w) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.tanh"(%0) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1, %2 : tensor<3xf32>, tensor<f32>
}
