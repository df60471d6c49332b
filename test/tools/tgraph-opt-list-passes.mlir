// RUN: tgraph-opt --list-passes | filecheck %s
// RUN: not tgraph-opt --pass-pipeline='builtin.module(nonexistent-pass)' %s 2>&1 | filecheck %s --check-prefix=UNKNOWN
// CHECK: tgraph passes and pipelines:
// CHECK: Every upstream MLIR pass is accepted too
// UNKNOWN: tgraph-opt: error: {{.*}}'nonexistent-pass' does not refer to a registered pass or pass pipeline
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  return %a : tensor<3xf32>
}
