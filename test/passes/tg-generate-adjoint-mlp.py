# RUN: %PYTHON %s | filecheck %s
# The adjoint of an MLP loss (784-512-512-10 shapes scaled down) is a small constant times the
# forward: every forward value is computed once and reused, zeros cost nothing, and bias
# broadcasts are undone by reductions.
import collections

import tgraph as tg


def mlp(x, w1, b1, w2, b2, w3, b3, labels):
    h = tg.relu(x @ w1 + b1)
    h = tg.relu(h @ w2 + b2)
    return tg.cross_entropy(h @ w3 + b3, labels)


def ops(graph, name):
    body = graph.func_op(name).regions[0].blocks[0].operations
    return collections.Counter(op.operation.name for op in body if op.operation.name.startswith("tg."))


graph = tg.trace(mlp, [tg.f32[16, 20], tg.f32[20, 12], tg.f32[12], tg.f32[12, 12], tg.f32[12], tg.f32[12, 10],
                       tg.f32[10], tg.i32[16]])
step = tg.value_and_grad(graph, wrt=[1, 2, 3, 4, 5, 6])
forward, adjoint = ops(step, "mlp"), ops(step, "mlp_value_and_grad")
print(f"forward: {sum(forward.values())} ops, {forward['tg.dot_general']} dot_general")
print(f"value_and_grad: {sum(adjoint.values())} ops, {adjoint['tg.dot_general']} dot_general, "
      f"{adjoint['tg.exp']} exp, {adjoint['tg.reduce_sum'] - forward['tg.reduce_sum']} new reduce_sum")
print(f"value_and_grad <= 3 x forward: {sum(adjoint.values()) <= 3 * sum(forward.values())}")

# Three matmuls forward; backward needs two per layer except for x (not differentiated): 3 + 5.
# One exp (forward, reused by the softmax rule); new reductions: one per bias gradient, and one
# undoing the broadcast of the log-sum-exp over the classes. The total is pinned so that a rule
# that grows the generated code shows up here (cross_entropy's label checks, ignore_index and
# NaN for labels out of range, are 13 of the forward ops).
# CHECK: forward: 48 ops, 3 dot_general
# CHECK-NEXT: value_and_grad: 81 ops, 8 dot_general, 1 exp, 4 new reduce_sum
# CHECK-NEXT: value_and_grad <= 3 x forward: True
