// RUN: tgraph-opt %s --tg-gpu-kernels | filecheck %s

// Each linalg.generic on memrefs becomes a kernel: an scf.forall over blocks of scf.foralls over
// threads. The tanh is pointwise: 800 points on 4 blocks of 256 threads, guarded past the end.
// The row sum (128 terms) is a tree reduction: a block per row, 128 threads each folding a share
// into workgroup memory, 7 halving steps, then one thread adds the total into the output.
// CHECK: memref.global "private" @__tg_workgroup_0 : memref<128xf32, #gpu.address_space<workgroup>>
// CHECK-LABEL: func.func @pointwise
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%[[B:[a-z0-9]+]]) in (4) {
// CHECK-NEXT: scf.forall (%[[T:[a-z0-9]+]]) in (256) {
// CHECK: %[[BASE:.*]] = arith.muli %[[B]], %c256
// CHECK: %[[I:.*]] = arith.addi %[[BASE]], %[[T]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[I]], %c800
// CHECK: scf.if %[[IN]] {
// CHECK: %[[X:.*]] = memref.load %arg0[%{{.*}}, %{{.*}}] : memref<8x100xf32>
// CHECK: %[[Y:.*]] = math.tanh %[[X]] : f32
// CHECK: memref.store %[[Y]], %arg1[%{{.*}}, %{{.*}}] : memref<8x100xf32>
// CHECK: } {mapping = [#gpu.thread<x>]}
// CHECK-NEXT: } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 256, 1, 1>, tg.kernel = 0 : i64, tg.kernel_kind = "pointwise"}
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @pointwise(%x: memref<8x100xf32>, %y: memref<8x100xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<8x100xf32>) outs(%y : memref<8x100xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.tanh %in : f32
    linalg.yield %0 : f32
  }
  return
}

// CHECK-LABEL: func.func @row_sum
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%[[B:[a-z0-9]+]]) in (4) {
// CHECK-NEXT: %[[P:.*]] = memref.get_global @__tg_workgroup_0 : memref<128xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT: scf.forall (%[[T:[a-z0-9]+]]) in (128) {
// CHECK: %[[S:.*]] = scf.for %{{.*}} = %[[T]] to %c128 step %c128{{.*}} iter_args(%{{.*}} = %cst) -> (f32) {
// CHECK: memref.load %arg0[%[[B]], %{{.*}}] : memref<4x128xf32>
// CHECK: arith.addf
// CHECK: memref.store %[[S]], %[[P]][%[[T]]]
// CHECK: scf.forall (%{{.*}}) in (64) {
// CHECK: scf.forall (%{{.*}}) in (32) {
// CHECK: scf.forall (%{{.*}}) in (16) {
// CHECK: scf.forall (%{{.*}}) in (8) {
// CHECK: scf.forall (%{{.*}}) in (4) {
// CHECK: scf.forall (%{{.*}}) in (2) {
// CHECK: scf.forall (%{{.*}}) in (1) {
// CHECK: scf.forall (%{{.*}}) in (1) {
// CHECK: %[[TOTAL:.*]] = memref.load %[[P]][%{{.*}}] : memref<128xf32, #gpu.address_space<workgroup>>
// CHECK: %[[OLD:.*]] = memref.load %arg1[%[[B]]] : memref<4xf32>
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[TOTAL]] : f32
// CHECK: memref.store %[[NEW]], %arg1[%[[B]]] : memref<4xf32>
// CHECK: } {mapping = [#gpu.thread<x>]}
// CHECK-NEXT: } {mapping = [#gpu.block<x>], tg.block_dims = array<i64: 128, 1, 1>, tg.kernel = 1 : i64, tg.kernel_kind = "tree reduction"}
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @row_sum(%x: memref<4x128xf32>, %s: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x128xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %0 = arith.addf %in, %acc : f32
    linalg.yield %0 : f32
  }
  return
}
