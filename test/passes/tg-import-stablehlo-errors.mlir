// RUN: not tgraph-opt --tg-import-stablehlo --split-input-file %s 2>&1 | filecheck %s

// An op without a rule is an error at that op, naming it.

func.func @lapack(%a: tensor<3x3xf32>) -> tensor<3x3xf32> {
  // CHECK: tg-import-stablehlo-errors.mlir:[[# @LINE + 1]]:8: error: tg-import-stablehlo: stablehlo.custom_call @lapack_sgetrf_ffi is not supported
  %0 = stablehlo.custom_call @lapack_sgetrf_ffi(%a) : (tensor<3x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @sorted(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: tg-import-stablehlo-errors.mlir:[[# @LINE + 1]]:8: error: tg-import-stablehlo: stablehlo.sort is not supported
  %0 = "stablehlo.sort"(%a) ({
  ^bb0(%x: tensor<f32>, %y: tensor<f32>):
    %p = stablehlo.compare LT, %x, %y : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %p : tensor<i1>
  }) {dimension = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
