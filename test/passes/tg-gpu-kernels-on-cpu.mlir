// RUN: tgraph-opt %s --tg-gpu-kernels-on-cpu | filecheck %s
// RUN: tgraph-opt %s --tg-gpu-kernels-on-cpu | filecheck %s --check-prefix=NONE-LEFT

// The GPU pipeline's kernels for the CPU: block and thread loops run one after another, lowered
// to the LLVM dialect with a C interface. The row sum of tanh (64 terms, fused) is a tree reduction
// of 64 threads: its workgroup buffer is a plain global (address space 0, not the GPU's 3), and
// its halving steps are sequential loops over 32, 16, 8, 4 and 2 threads.
// NONE-LEFT-NOT: "tg.
// NONE-LEFT-NOT: linalg.
// NONE-LEFT-NOT: tensor.
// NONE-LEFT-NOT: memref.
// NONE-LEFT-NOT: scf.
// NONE-LEFT-NOT: gpu.
// NONE-LEFT-NOT: llvm.call @tanhf
// CHECK: llvm.mlir.global private @__tg_workgroup_0() {addr_space = 0 : i32} : !llvm.array<64 x f32>
// CHECK-LABEL: llvm.func @f(
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-DAG: %[[C32:.*]] = llvm.mlir.constant(32 : index) : i64
// CHECK-DAG: %[[C16:.*]] = llvm.mlir.constant(16 : index) : i64
// CHECK-DAG: %[[C8:.*]] = llvm.mlir.constant(8 : index) : i64
// CHECK-DAG: %[[C4:.*]] = llvm.mlir.constant(4 : index) : i64
// CHECK-DAG: %[[C2:.*]] = llvm.mlir.constant(2 : index) : i64
// The fill of the output: 4 of its 256 threads store a zero.
// CHECK: llvm.icmp "ult" %{{.*}}, %[[C4]] : i64
// The reduction: each thread folds its terms (tanh as arithmetic), then the tree.
// CHECK: llvm.fdiv
// CHECK: llvm.icmp "slt" %{{.*}}, %[[C32]] : i64
// CHECK: llvm.icmp "slt" %{{.*}}, %[[C16]] : i64
// CHECK: llvm.icmp "slt" %{{.*}}, %[[C8]] : i64
// CHECK: llvm.icmp "slt" %{{.*}}, %[[C4]] : i64
// CHECK: llvm.icmp "slt" %{{.*}}, %[[C2]] : i64
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_f(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
// CHECK: llvm.call @f(
func.func @f(%x: tensor<4x64xf32>) -> tensor<4xf32> {
  %0 = "tg.tanh"(%x) : (tensor<4x64xf32>) -> tensor<4x64xf32>
  %1 = "tg.reduce_sum"(%0) {axes = array<i64: 1>} : (tensor<4x64xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
