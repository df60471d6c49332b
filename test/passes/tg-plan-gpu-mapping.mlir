// RUN: tgraph-opt %s --tg-plan-gpu-mapping | filecheck %s

// Appends a transform script that, for each tg.kernel block loop in turn, finds it by its number,
// maps it onto a gpu.launch and its thread loops onto threads of its tg.block_dims; the
// payload itself is left as it is (the script runs in tg-map-to-gpu).
// CHECK-LABEL: func.func @f
// CHECK: scf.forall (%{{.*}}) in (2) {
// CHECK-NEXT: scf.forall (%{{.*}}) in (256) {
// CHECK: } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 256, 1, 1>, tg.kernel = 0 : i64, tg.kernel_kind = "pointwise"}
// CHECK: scf.forall (%{{.*}}) in (1) {
// CHECK: } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 1, 1, 1>, tg.kernel = 1 : i64, tg.kernel_kind = "serial reduction"}
// CHECK-NEXT: return
// CHECK: module attributes {transform.with_named_sequence} {
// CHECK-NEXT: transform.named_sequence @__transform_main(%[[ROOT:.*]]: !transform.any_op {transform.readonly}) {
// CHECK-NEXT: %[[K0:.*]] = transform.structured.match ops{["scf.forall"]} attributes {tg.kernel = 0 : i64} in %[[ROOT]]
// CHECK-NEXT: %[[L0:.*]] = transform.gpu.map_forall_to_blocks %[[K0]] generate_gpu_launch
// CHECK-NEXT: transform.gpu.map_nested_forall_to_threads %[[L0]] block_dims = [256, 1, 1]
// CHECK-NEXT: %[[K1:.*]] = transform.structured.match ops{["scf.forall"]} attributes {tg.kernel = 1 : i64} in %[[ROOT]]
// CHECK-NEXT: %[[L1:.*]] = transform.gpu.map_forall_to_blocks %[[K1]] generate_gpu_launch
// CHECK-NEXT: transform.gpu.map_nested_forall_to_threads %[[L1]] block_dims = [1, 1, 1]
// CHECK-NEXT: transform.yield
func.func @f(%x: memref<512xf32>, %y: memref<512xf32>, %s: memref<f32>) {
  scf.forall (%b) in (2) {
    scf.forall (%t) in (256) {
      %c256 = arith.constant 256 : index
      %0 = arith.muli %b, %c256 : index
      %i = arith.addi %0, %t : index
      %v = memref.load %x[%i] : memref<512xf32>
      %w = math.tanh %v : f32
      memref.store %w, %y[%i] : memref<512xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 256, 1, 1>, tg.kernel = 0 : i64, tg.kernel_kind = "pointwise"}
  scf.forall (%b) in (1) {
    scf.forall (%t) in (1) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c512 = arith.constant 512 : index
      %init = memref.load %s[] : memref<f32>
      %r = scf.for %k = %c0 to %c512 step %c1 iter_args(%acc = %init) -> (f32) {
        %v = memref.load %y[%k] : memref<512xf32>
        %a = arith.addf %v, %acc : f32
        scf.yield %a : f32
      }
      memref.store %r, %s[] : memref<f32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 1, 1, 1>, tg.kernel = 1 : i64, tg.kernel_kind = "serial reduction"}
  return
}
