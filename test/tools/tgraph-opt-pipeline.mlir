// tg ops are Pure: upstream CSE merges duplicates and canonicalize drops dead ones.
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(func.func(cse), canonicalize)' | filecheck %s
// RUN: tgraph-opt %s --cse --canonicalize | filecheck %s
// RUN: tgraph-opt %s --cse -o %t && filecheck %s --check-prefix=CSE < %t
// RUN: tgraph-opt %s --cse --mlir-print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=AFTER

// CHECK-LABEL: func.func @f
// CHECK-NEXT: %[[E:.*]] = "tg.exp"(%arg0)
// CHECK-NEXT: %[[S:.*]] = "tg.add"(%[[E]], %[[E]])
// CHECK-NEXT: return %[[S]]
// CSE: "tg.exp"
// CSE-NOT: "tg.exp"
// CSE-NOT: "tg.tanh"
// AFTER: IR Dump After CSE
// AFTER: "tg.add"
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.tanh"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %3 = "tg.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %3 : tensor<3xf32>
}
