// RUN: tgraph-opt %s --tg-branch-results-in-place | filecheck %s

// Both branches compute their result into one tensor.empty made before the scf.if.
// CHECK-LABEL: func.func @branches
// CHECK: %[[SHARED:.*]] = tensor.empty() : tensor<8xf32>
// CHECK: scf.if
// CHECK: linalg.generic {{.*}} outs(%[[SHARED]] : tensor<8xf32>)
// CHECK: } else {
// CHECK: linalg.generic {{.*}} outs(%[[SHARED]] : tensor<8xf32>)
#id = affine_map<(d0) -> (d0)>
func.func @branches(%c: i1, %x: tensor<8xf32>) -> tensor<8xf32> {
  %r = scf.if %c -> (tensor<8xf32>) {
    %e = tensor.empty() : tensor<8xf32>
    %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%v: f32, %o: f32):
      %t = math.tanh %v : f32
      linalg.yield %t : f32
    } -> tensor<8xf32>
    scf.yield %a : tensor<8xf32>
  } else {
    %e = tensor.empty() : tensor<8xf32>
    %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%v: f32, %o: f32):
      %t = math.exp %v : f32
      linalg.yield %t : f32
    } -> tensor<8xf32>
    scf.yield %b : tensor<8xf32>
  }
  return %r : tensor<8xf32>
}

// A branch that passes an operand through copies it into the shared tensor.
// CHECK-LABEL: func.func @passthrough
// CHECK: %[[SHARED:.*]] = tensor.empty() : tensor<8xf32>
// CHECK: scf.if
// CHECK: linalg.copy {{.*}}ins(%arg1 : tensor<8xf32>) outs(%[[SHARED]] : tensor<8xf32>)
func.func @passthrough(%c: i1, %x: tensor<8xf32>) -> tensor<8xf32> {
  %r = scf.if %c -> (tensor<8xf32>) {
    scf.yield %x : tensor<8xf32>
  } else {
    %e = tensor.empty() : tensor<8xf32>
    %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%v: f32, %o: f32):
      %t = math.exp %v : f32
      linalg.yield %t : f32
    } -> tensor<8xf32>
    scf.yield %b : tensor<8xf32>
  }
  return %r : tensor<8xf32>
}
