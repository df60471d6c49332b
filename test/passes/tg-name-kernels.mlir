// RUN: tgraph-opt %s --tg-name-kernels | filecheck %s

// Outlined kernels and their gpu.modules are renamed tg_kernel_<n> in launch order (not module
// order), and each launch names its new kernel; the kernels' bodies stay.
// CHECK-LABEL: func.func @f
// CHECK-NOT: @f_kernel
// CHECK: gpu.launch_func @tg_kernel_0::@tg_kernel_0 blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%arg0 : memref<64xf32>, %arg1 : memref<64xf32>)
// CHECK-NEXT: gpu.launch_func @tg_kernel_1::@tg_kernel_1 blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%arg1 : memref<64xf32>)
// CHECK-LABEL: gpu.module @tg_kernel_1 {
// CHECK-NEXT: gpu.func @tg_kernel_1(%{{.*}}: memref<64xf32>) kernel {
// CHECK: math.exp
// CHECK-LABEL: gpu.module @tg_kernel_0 {
// CHECK-NEXT: gpu.func @tg_kernel_0(%{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>) kernel {
// CHECK: math.tanh
// CHECK-NOT: @f_kernel
module attributes {gpu.container_module} {
  func.func @f(%x: memref<64xf32>, %y: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%x : memref<64xf32>, %y : memref<64xf32>)
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%y : memref<64xf32>)
    return
  }
  gpu.module @f_kernel {
    gpu.func @f_kernel(%y: memref<64xf32>) kernel {
      %t = gpu.thread_id x
      %v = memref.load %y[%t] : memref<64xf32>
      %w = math.exp %v : f32
      memref.store %w, %y[%t] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    gpu.func @f_kernel(%x: memref<64xf32>, %y: memref<64xf32>) kernel {
      %t = gpu.thread_id x
      %v = memref.load %x[%t] : memref<64xf32>
      %w = math.tanh %v : f32
      memref.store %w, %y[%t] : memref<64xf32>
      gpu.return
    }
  }
}
