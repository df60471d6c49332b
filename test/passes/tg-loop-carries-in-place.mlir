// RUN: tgraph-opt %s --tg-loop-carries-in-place | filecheck %s
// RUN: tgraph-opt %s --tg-loop-carries-in-place --one-shot-bufferize="bufferize-function-boundaries allow-return-allocs-from-loops" | filecheck %s --check-prefix=BUFFERS

// The generic computing the next carry wrote into a fresh tensor.empty: it now writes into the
// carry, and the loop bufferizes with no allocation (and no copy) per iteration.
// CHECK-LABEL: func.func @carry
// CHECK: scf.for {{.*}} iter_args(%[[H:.*]] = %arg0)
// CHECK: linalg.generic {{.*}} ins(%[[H]] : tensor<16xf32>) outs(%[[H]] : tensor<16xf32>)
// BUFFERS-LABEL: func.func @carry
// BUFFERS: scf.for
// BUFFERS-NOT: memref.alloc
// BUFFERS-NOT: memref.copy
// BUFFERS: linalg.generic
// BUFFERS: return
#id = affine_map<(d0) -> (d0)>
func.func @carry(%h0: tensor<16xf32>) -> tensor<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %r = scf.for %i = %c0 to %c100 step %c1 iter_args(%h = %h0) -> (tensor<16xf32>) {
    %e = tensor.empty() : tensor<16xf32>
    %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%h : tensor<16xf32>) outs(%e : tensor<16xf32>) {
    ^bb0(%x: f32, %o: f32):
      %t = math.tanh %x : f32
      linalg.yield %t : f32
    } -> tensor<16xf32>
    scf.yield %n : tensor<16xf32>
  }
  return %r : tensor<16xf32>
}

// A carry yielded unchanged, or another carry (a swap), is left alone.
// CHECK-LABEL: func.func @swap
// CHECK: scf.yield %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>
func.func @swap(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r:2 = scf.for %i = %c0 to %c3 step %c1 iter_args(%x = %a, %y = %b) -> (tensor<4xf32>, tensor<4xf32>) {
    scf.yield %y, %x : tensor<4xf32>, tensor<4xf32>
  }
  return %r#0 : tensor<4xf32>
}
