// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-donate-results{func=step pairs=0:1}, tg-donate-results{func=tiled pairs=0:0}, tg-donate-results{func=overlapping pairs=0:0})' | filecheck %s

// Result 1 is returned through argument 0, which becomes writable; result 0 is left alone.
// CHECK-LABEL: func.func @step(%arg0: tensor<4xf32> {bufferization.writable = true}, %arg1: tensor<4xf32>)
// CHECK: %[[N:.*]] = linalg.generic
// CHECK: %[[D:.*]] = bufferization.materialize_in_destination %[[N]] in %arg0
// CHECK: return %{{.*}}, %[[D]]
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

// A loop over disjoint tiles (the codegen's tiled elementwise update) that reads the argument only
// at the tile it writes: it starts from the argument and reads the tile from its own tensor, so it
// bufferizes in place (no materialize_in_destination, no copy).
// CHECK-LABEL: func.func @tiled(%arg0: tensor<256xf64> {bufferization.writable = true}, %arg1: tensor<256xf64>)
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %arg0)
// CHECK: tensor.extract_slice %arg1[%[[I]]]
// CHECK: tensor.extract_slice %[[ACC]][%[[I]]]
// CHECK-NOT: materialize_in_destination
// CHECK: return
func.func @tiled(%b: tensor<256xf64>, %g: tensor<256xf64>) -> tensor<256xf64> {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %cst = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<256xf64>
  %r = scf.for %i = %c0 to %c256 step %c64 iter_args(%acc = %e) -> (tensor<256xf64>) {
    %gs = tensor.extract_slice %g[%i] [64] [1] : tensor<256xf64> to tensor<64xf64>
    %bs = tensor.extract_slice %b[%i] [64] [1] : tensor<256xf64> to tensor<64xf64>
    %os = tensor.extract_slice %acc[%i] [64] [1] : tensor<256xf64> to tensor<64xf64>
    %v1 = vector.transfer_read %gs[%c0], %cst {in_bounds = [true]} : tensor<64xf64>, vector<64xf64>
    %v2 = vector.transfer_read %bs[%c0], %cst {in_bounds = [true]} : tensor<64xf64>, vector<64xf64>
    %s = arith.addf %v1, %v2 : vector<64xf64>
    %w = vector.transfer_write %s, %os[%c0] {in_bounds = [true]} : vector<64xf64>, tensor<64xf64>
    %ins = tensor.insert_slice %w into %acc[%i] [64] [1] : tensor<64xf64> into tensor<256xf64>
    scf.yield %ins : tensor<256xf64>
  }
  return %r : tensor<256xf64>
}

// Tiles that overlap (a step smaller than the tile) are not provably disjoint: copied instead.
// CHECK-LABEL: func.func @overlapping
// CHECK: iter_args(%{{.*}} = %{{[0-9]+}})
// CHECK: bufferization.materialize_in_destination
func.func @overlapping(%b: tensor<256xf64>, %g: tensor<256xf64>) -> tensor<256xf64> {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c192 = arith.constant 192 : index
  %cst = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<256xf64>
  %r = scf.for %i = %c0 to %c192 step %c32 iter_args(%acc = %e) -> (tensor<256xf64>) {
    %bs = tensor.extract_slice %b[%i] [64] [1] : tensor<256xf64> to tensor<64xf64>
    %os = tensor.extract_slice %acc[%i] [64] [1] : tensor<256xf64> to tensor<64xf64>
    %v2 = vector.transfer_read %bs[%c0], %cst {in_bounds = [true]} : tensor<64xf64>, vector<64xf64>
    %w = vector.transfer_write %v2, %os[%c0] {in_bounds = [true]} : vector<64xf64>, tensor<64xf64>
    %ins = tensor.insert_slice %w into %acc[%i] [64] [1] : tensor<64xf64> into tensor<256xf64>
    scf.yield %ins : tensor<256xf64>
  }
  return %r : tensor<256xf64>
}
