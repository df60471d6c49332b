// RUN: tgraph-opt %s --tg-map-to-gpu | filecheck %s

// Plans and applies the GPU mapping: each tg.kernel block loop becomes a gpu.launch (2 blocks of
// 64 threads here), its thread loops thread ids, a gpu.barrier after each; the 32-thread loop is
// guarded by thread id < 32. No loop, kernel tag or transform script is left.
// CHECK-LABEL: func.func @f
// CHECK-NOT: scf.forall
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: gpu.launch blocks(%{{.*}}) in (%{{.*}} = %[[C2]], %{{.*}}) threads(%{{.*}}) in (%{{.*}} = %[[C64]], %{{.*}}) {
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[TX:.*]] = gpu.thread_id x
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %{{.*}} : index
// CHECK: %[[I:.*]] = arith.addi %[[BASE]], %[[TX]] : index
// CHECK: math.tanh
// CHECK: memref.store %{{.*}}, %arg1[%[[I]]] : memref<128xf32>
// CHECK-NEXT: gpu.barrier
// CHECK: %[[TX2:.*]] = gpu.thread_id x
// CHECK: %[[C32:.*]] = arith.constant 32 : index
// CHECK-NEXT: %[[LT:.*]] = arith.cmpi ult, %[[TX2]], %[[C32]] : index
// CHECK-NEXT: scf.if %[[LT]] {
// CHECK: arith.addf
// CHECK: memref.store
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
// CHECK-NOT: scf.forall
// CHECK-NOT: tg.kernel
// CHECK-NOT: transform.
func.func @f(%x: memref<128xf32>, %y: memref<128xf32>) {
  scf.forall (%b) in (2) {
    scf.forall (%t) in (64) {
      %c64 = arith.constant 64 : index
      %0 = arith.muli %b, %c64 : index
      %i = arith.addi %0, %t : index
      %v = memref.load %x[%i] : memref<128xf32>
      %w = math.tanh %v : f32
      memref.store %w, %y[%i] : memref<128xf32>
    } {mapping = [#gpu.thread<x>]}
    scf.forall (%t) in (32) {
      %c32 = arith.constant 32 : index
      %c64 = arith.constant 64 : index
      %0 = arith.muli %b, %c64 : index
      %i = arith.addi %0, %t : index
      %j = arith.addi %i, %c32 : index
      %u = memref.load %y[%i] : memref<128xf32>
      %v = memref.load %y[%j] : memref<128xf32>
      %w = arith.addf %u, %v : f32
      memref.store %w, %y[%i] : memref<128xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 64, 1, 1>, tg.kernel = 0 : i64, tg.kernel_kind = "pointwise"}
  return
}
