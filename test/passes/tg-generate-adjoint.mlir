// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-adjoint{func=f}, canonicalize, cse)' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-adjoint{func=f wrt=1 unit-seed=true vjp=df value-and-grad=vdf}, tg-simplify, canonicalize, cse)' | filecheck %s --check-prefix=OPTS
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-adjoint{func=fanout}, canonicalize, cse)' | filecheck %s --check-prefix=FANOUT
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-adjoint{func=matmul}, canonicalize, cse)' | filecheck %s --check-prefix=MATMUL
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-adjoint{func=f unit-seed=true}, tg-generate-tangent{func=f_grad primal=false out=f_hvp}, tg-simplify, canonicalize, cse)' | filecheck %s --check-prefix=HVP
// RUN: not tgraph-opt %s --tg-generate-adjoint=func=nope 2>&1 | filecheck %s --check-prefix=NOFUNC
// RUN: not tgraph-opt %s --tg-generate-adjoint='func=ints wrt=1' 2>&1 | filecheck %s --check-prefix=INTWRT
// RUN: not tgraph-opt %s --tg-generate-adjoint=func=ints 2>&1 | filecheck %s --check-prefix=NOFLOAT

// f(x, w) = sum(tanh(x * broadcast(w))). The seed is a scalar; reduce_sum's rule broadcasts it back,
// tanh's rule multiplies by 1 - y^2 reusing the forward y, and broadcast's rule sums over the
// broadcast dimension.
// CHECK-LABEL: func.func @f_vjp(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<f32>) -> (tensor<2x3xf32>, tensor<3xf32>)
// CHECK: %[[B:.*]] = "tg.broadcast_in_dim"(%arg1)
// CHECK: %[[P:.*]] = "tg.mul"(%arg0, %[[B]])
// CHECK: %[[Y:.*]] = "tg.tanh"(%[[P]])
// CHECK: %[[SEED:.*]] = "tg.broadcast_in_dim"(%arg2) {dims = array<i64>, shape = array<i64: 2, 3>}
// CHECK: %[[YY:.*]] = "tg.mul"(%[[Y]], %[[Y]])
// CHECK: %[[D:.*]] = "tg.sub"(%{{.*}}, %[[YY]])
// CHECK: %[[CT:.*]] = "tg.mul"(%[[SEED]], %[[D]])
// CHECK: %[[DX:.*]] = "tg.mul"(%[[CT]], %[[B]])
// CHECK: %[[DWB:.*]] = "tg.mul"(%[[CT]], %arg0)
// CHECK: %[[DW:.*]] = "tg.reduce_sum"(%[[DWB]]) {axes = array<i64: 0>}
// CHECK: return %[[DX]], %[[DW]] : tensor<2x3xf32>, tensor<3xf32>
// The value-and-gradient function sweeps forward once: y is returned and reused.
// CHECK-LABEL: func.func @f_value_and_grad(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<f32>) -> (tensor<f32>, tensor<2x3xf32>, tensor<3xf32>)
// CHECK-COUNT-1: "tg.tanh"
// CHECK: %[[V:.*]] = "tg.reduce_sum"
// CHECK: return %[[V]], %{{.*}}, %{{.*}} : tensor<f32>, tensor<2x3xf32>, tensor<3xf32>

// Options: only w (argument 1) is differentiated, the seed is 1 (no seed argument), names chosen.
// x's cotangent is never computed.
// OPTS-LABEL: func.func @df(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>) -> tensor<3xf32>
// OPTS-NOT: "tg.broadcast_in_dim"(%{{.*}}) {dims = array<i64>
// OPTS: %[[D:.*]] = "tg.sub"
// OPTS-NEXT: %[[M:.*]] = "tg.mul"(%[[D]], %arg0)
// OPTS-NEXT: %[[DW:.*]] = "tg.reduce_sum"(%[[M]]) {axes = array<i64: 0>}
// OPTS-NEXT: return %[[DW]] : tensor<3xf32>
// OPTS-LABEL: func.func @vdf(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>)

// Fan-out: x feeds exp and mul, so its cotangent is the sum of both contributions. The i1 result
// takes no seed.
// FANOUT-LABEL: func.func @fanout_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> tensor<3xf32>
// FANOUT: %[[E:.*]] = "tg.exp"(%arg0)
// FANOUT: %[[A:.*]] = "tg.mul"(%arg1, %arg0)
// FANOUT: %[[B:.*]] = "tg.mul"(%arg1, %[[E]])
// FANOUT: %[[C:.*]] = "tg.mul"(%[[A]], %[[E]])
// FANOUT: %[[S:.*]] = "tg.add"(%[[B]], %[[C]])
// FANOUT: return %[[S]]
// FANOUT-LABEL: func.func @fanout_value_and_grad(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>, tensor<3xf32>)

// dot_general's transposes contract the seed with the other operand; no transposes are materialized.
// MATMUL-LABEL: func.func @matmul_vjp(%arg0: tensor<2x3xf32>, %arg1: tensor<3x4xf32>, %arg2: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<3x4xf32>)
// MATMUL-NEXT: %[[DA:.*]] = "tg.dot_general"(%arg2, %arg1) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
// MATMUL-NEXT: %[[DB:.*]] = "tg.dot_general"(%arg0, %arg2) {lhs_batch = array<i64>, lhs_contract = array<i64: 0>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// MATMUL-NEXT: return %[[DA]], %[[DB]]

// Higher order: the tangent pass runs on the adjoint's output, forward over reverse (an HVP).
// HVP-LABEL: func.func @f_hvp(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>)
// HVP: "tg.tanh"
// HVP: "tg.neg"
// HVP: "tg.reduce_sum"
// HVP: return

// NOFUNC: error: tg-generate-adjoint: no function @nope in the module (it has @ints, @f, @fanout, @matmul)
// INTWRT: tg-generate-adjoint.mlir:[[# @LINE + 3]]:1: error: tg-generate-adjoint: cannot differentiate @ints with respect to argument 1 of type tensor<3xi32>: only floating-point arguments have derivatives
// NOFLOAT: tg-generate-adjoint.mlir:[[# @LINE + 2]]:1: error: tg-generate-adjoint: @ints has no floating-point result to differentiate

func.func @ints(%x: tensor<3xf32>, %n: tensor<3xi32>) -> tensor<3xi32> {
  %0 = "tg.cast"(%x) {dtype = i32} : (tensor<3xf32>) -> tensor<3xi32>
  %1 = "tg.add"(%0, %n) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %1 : tensor<3xi32>
}

func.func @f(%x: tensor<2x3xf32>, %w: tensor<3xf32>) -> tensor<f32> {
  %0 = "tg.broadcast_in_dim"(%w) {dims = array<i64: 1>, shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
  %1 = "tg.mul"(%x, %0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "tg.tanh"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "tg.reduce_sum"(%2) {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<f32>
  return %3 : tensor<f32>
}

func.func @fanout(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %0 = "tg.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.mul"(%0, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.compare"(%x, %0) {direction = "lt"} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %1, %2 : tensor<3xf32>, tensor<3xi1>
}

func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
