// RUN: tgraph-opt %s --tg-gpu-pipeline=stage=gpu | filecheck %s
// RUN: tgraph-opt %s --tg-gpu-pipeline | filecheck %s --check-prefix=NVVM

// Host code keeps only buffers, views and launches; each linalg op is one outlined kernel, named
// in launch order, that receives only its buffers (constants and index math are sunk into it).
// The contraction is tiled 64x64 per block on 256 threads and stages its A, B and C tiles in
// workgroup memory, with barriers between the phases; the row sum (80 terms) is a tree reduction
// of 128 threads per row (7 halving steps); fills and tanh are one thread per element.
// CHECK-LABEL: func.func @f(
// CHECK-SAME: %[[A:.*]]: memref<64x96xf32>, %[[B:.*]]: memref<96x80xf32>, %[[C:.*]]: memref<64x80xf32>, %[[S:.*]]: memref<64xf32>)
// CHECK-NOT: scf.
// CHECK-NOT: linalg.
// CHECK: gpu.launch_func @tg_kernel_0::@tg_kernel_0 blocks in (%c20, %c1, %c1) threads in (%c256, %c1, %c1) args(%[[C]] : memref<64x80xf32>)
// CHECK: gpu.launch_func @tg_kernel_1::@tg_kernel_1 blocks in (%c2, %c1, %c1) threads in (%c256, %c1, %c1) args(%[[C]] : memref<64x80xf32>, %[[A]] : memref<64x96xf32>, %[[B]] : memref<96x80xf32>)
// CHECK: gpu.launch_func @tg_kernel_2::@tg_kernel_2
// CHECK: gpu.launch_func @tg_kernel_3::@tg_kernel_3
// CHECK: gpu.launch_func @tg_kernel_4::@tg_kernel_4 blocks in (%c64, %c1, %c1) threads in (%c128, %c1, %c1) args(%[[C]] : memref<64x80xf32>, %[[S]] : memref<64xf32>)
// CHECK-NEXT: return
// CHECK-LABEL: gpu.module @tg_kernel_1
// CHECK: gpu.func @tg_kernel_1({{.*}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>
// CHECK-COUNT-3: memref.get_global @__tg_workgroup_{{[0-9]+}} : memref<{{.*}}xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: gpu.barrier
// CHECK-LABEL: gpu.module @tg_kernel_4
// CHECK: memref.get_global @__tg_workgroup_{{[0-9]+}} : memref<128xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.thread_id x
// CHECK: scf.for
// CHECK-COUNT-9: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return

// Kernels in the LLVM dialect: memrefs expanded to descriptor fields, workgroup buffers in
// address space 3, barriers as nvvm.barrier, math as libdevice calls.
// NVVM-LABEL: gpu.module @tg_kernel_0
// NVVM: llvm.func @tg_kernel_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64) attributes {{{.*}}nvvm.kernel, nvvm.maxntid = array<i32: 256, 1, 1>}
// NVVM: nvvm.read.ptx.sreg.tid.x
// NVVM-LABEL: gpu.module @tg_kernel_1
// NVVM: nvvm.barrier
// NVVM: llvm.mlir.global private @__tg_workgroup_0() {addr_space = 3 : i32} : !llvm.array<64 x array<16 x f32>>
// NVVM-LABEL: gpu.module @tg_kernel_2
// NVVM: llvm.call @__nv_tanhf
func.func @f(%a: tensor<64x96xf32>, %b: tensor<96x80xf32>) -> (tensor<64x80xf32>, tensor<64xf32>) {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>} : (tensor<64x96xf32>, tensor<96x80xf32>) -> tensor<64x80xf32>
  %1 = "tg.tanh"(%0) : (tensor<64x80xf32>) -> tensor<64x80xf32>
  %2 = "tg.reduce_sum"(%1) {axes = array<i64: 1>} : (tensor<64x80xf32>) -> tensor<64xf32>
  return %1, %2 : tensor<64x80xf32>, tensor<64xf32>
}
