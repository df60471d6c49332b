// RUN: tgraph-opt %s --tg-inline-calls | filecheck %s

// Every call of a function of the module is replaced by the callee's body (nested calls too),
// and the private functions no longer used are erased; the rules a call names are gone with it.
// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT: %[[S:.*]] = "tg.sin"(%arg0)
// CHECK-NEXT: %[[E:.*]] = "tg.exp"(%[[S]])
// CHECK-NEXT: %[[T:.*]] = "tg.tanh"(%[[E]])
// CHECK-NEXT: return %[[T]]
// CHECK-NOT: func.func private
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = func.call @outer(%x) {tg.custom_jvp = @rule} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.tanh"(%0) : (tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
func.func private @outer(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = func.call @inner(%0) : (tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
func.func private @inner(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func private @rule(%x: tensor<3xf32>, %t: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  return %x, %t : tensor<3xf32>, tensor<3xf32>
}
