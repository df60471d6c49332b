// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-to-linalg, canonicalize, tg-fuse-elementwise-chains)' | filecheck %s

// The tree sin, mul, tanh, add, exp (each value used once) becomes one generic reading each
// outside value once; exp's result has two users, so the add and the cos after it stay apart.
// CHECK-LABEL: func.func @f
// CHECK: %[[TREE:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<16xf32>, tensor<16xf32>)
// CHECK: math.sin
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: math.tanh
// CHECK-NEXT: arith.addf
// CHECK-NEXT: math.exp
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[TREE]], %arg0
// CHECK: linalg.generic {{.*}} ins(%[[TREE]] :
// CHECK-NOT: linalg.generic
func.func @f(%x: tensor<16xf32>, %y: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %0 = "tg.sin"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  %1 = "tg.mul"(%0, %y) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %2 = "tg.tanh"(%y) : (tensor<16xf32>) -> tensor<16xf32>
  %3 = "tg.add"(%1, %2) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %4 = "tg.exp"(%3) : (tensor<16xf32>) -> tensor<16xf32>
  %5 = "tg.add"(%4, %x) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %6 = "tg.cos"(%4) : (tensor<16xf32>) -> tensor<16xf32>
  return %5, %6 : tensor<16xf32>, tensor<16xf32>
}

// A broadcast (not an identity map) is left to linalg-fuse-elementwise-ops: sin, the broadcast
// and exp stay three generics.
// CHECK-LABEL: func.func @broadcast
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.generic
func.func @broadcast(%x: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = "tg.sin"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  %1 = "tg.broadcast_in_dim"(%0) {dims = array<i64: 1>, shape = array<i64: 4, 16>} : (tensor<16xf32>) -> tensor<4x16xf32>
  %2 = "tg.exp"(%1) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}

// A producer used twice by the group (as a derivative uses a value twice) joins it: one generic.
// CHECK-LABEL: func.func @used_twice
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<16xf32>)
// CHECK: math.sin
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: math.exp
// CHECK-NOT: linalg.generic
func.func @used_twice(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = "tg.sin"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  %1 = "tg.mul"(%0, %0) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %2 = "tg.exp"(%1) : (tensor<16xf32>) -> tensor<16xf32>
  return %2 : tensor<16xf32>
}
