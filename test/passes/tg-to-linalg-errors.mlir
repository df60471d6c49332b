// An op the conversion neither lowers nor keeps: a diagnostic at that op, exit code 1.
// RUN: not tgraph-opt %s --tg-to-linalg 2>&1 | filecheck %s
// RUN: not tgraph-opt %s --tg-cpu-pipeline 2>&1 | filecheck %s

// CHECK-NOT: Traceback
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %m = memref.alloc() : memref<3xf32>  // CHECK: tg-to-linalg-errors.mlir:[[# @LINE]]:8: error: tg-to-linalg: failed to legalize operation 'memref.alloc'
  return %0 : tensor<3xf32>
}
