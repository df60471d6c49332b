// Malformed input: an MLIR diagnostic with file:line:col, exit code 1, no Python traceback.
// RUN: not tgraph-opt %s 2>&1 | filecheck %s
// RUN: not tgraph-opt %s --no-such-pass 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not tgraph-opt %s.missing 2>&1 | filecheck %s --check-prefix=FILE
// RUN: not tgraph-opt < %s 2>&1 | filecheck %s --check-prefix=STDIN

// CHECK-NOT: Traceback
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%b) : (tensor<3xf32>) -> tensor<3xf32>  // CHECK: tgraph-opt-errors.mlir:[[# @LINE]]:17: error: use of undeclared SSA value name
  return %0 : tensor<3xf32>
}
// PASS: tgraph-opt-errors.mlir:9:17: error: use of undeclared SSA value name
// FILE: tgraph-opt: error: cannot read {{.*}}.missing: No such file or directory
// STDIN: <stdin>:9:17: error: use of undeclared SSA value name
