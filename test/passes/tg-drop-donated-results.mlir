// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-donate-results{func=step pairs=0:1}, tg-donate-results{func=read_after pairs=0:1}, eliminate-empty-tensors, one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, tg-drop-donated-results{func=step pairs=0:1}, tg-drop-donated-results{func=read_after pairs=0:1}, canonicalize)' | filecheck %s

// After bufferization the donated result is argument 0's buffer, computed in place (nothing reads
// the old value after the update), and it leaves the results; the sum stays a result.
// CHECK-LABEL: func.func @step(%arg0: memref<4xf32>, %arg1: memref<4xf32>) -> memref<f32>
// CHECK: linalg.reduce ins(%arg0
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : memref<4xf32>, memref<4xf32>) outs(%arg0 : memref<4xf32>)
// CHECK-NOT: memref.copy
// CHECK: return %{{.*}} : memref<f32>
func.func @step(%p: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %z = tensor.empty() : tensor<f32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%z : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%p : tensor<4xf32>) outs(%f : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) { %t = arith.addf %in, %acc : f32
      linalg.yield %t : f32 }
  %e = tensor.empty() : tensor<4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%p, %g : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %sum, %n : tensor<f32>, tensor<4xf32>
}

// Where the old value is read after the update, the result is computed apart and copied in at the end.
// CHECK-LABEL: func.func @read_after
// CHECK: memref.alloc
// CHECK: memref.copy %{{.*}}, %arg0
// CHECK: return
func.func @read_after(%p: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%p, %g : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %z = tensor.empty() : tensor<f32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%z : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%p : tensor<4xf32>) outs(%f : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) { %t = arith.addf %in, %acc : f32
      linalg.yield %t : f32 }
  return %sum, %n : tensor<f32>, tensor<4xf32>
}
