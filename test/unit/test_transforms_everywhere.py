"""The composable transforms, each run four ways from one table: the reference interpreter, compiled
on the CPU, compiled for the GPU and run on the CPU emulator of the driver (its PTX accepted by
ptxas), and JAX where JAX has the same function. A case is a function of arrays whose body uses
the transforms (so the whole thing is one traced graph), the same function written with
jax.numpy, and its float64 inputs."""

import collections
import dataclasses
import functools
from typing import Callable

import numpy as np
import pytest

import tgraph as tg
from tgraph.backends import ptx
from tgraph.backends.cuda import CudaExecutable

Params = collections.namedtuple("Params", "w b")


@dataclasses.dataclass
class Case:
    name: str
    fn: Callable  # tgraph
    jax_fn: Callable  # the same with jax (jnp, jax); None where JAX has no such function
    make_inputs: Callable  # rng -> list of arguments (pytrees of float64 arrays)

    @property
    def id(self):
        return self.name


# ----------------------------------------------------------------------------- the functions
def _loss(p, x, y):
    return tg.sum((tg.tanh(x @ p["w"] + p["b"]) - y) ** 2)


def _j_loss(jnp, p, x, y):
    return jnp.sum((jnp.tanh(x @ p["w"] + p["b"]) - y) ** 2)


def _mlp_inputs(rng, batch=5):
    return [{"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)},
            rng.standard_normal((batch, 4)), rng.standard_normal((batch, 3))]


@tg.custom_vjp
def scaled_sin(x, w):
    return tg.sin(x) * w


# bwd is linear in g: reverse mode uses it, forward mode transposes it. It doubles x's cotangent,
# so a result that ignored the rule would differ.
scaled_sin.defvjp(lambda x, w: (tg.sin(x) * w, (tg.cos(x), tg.sin(x), w)),
                  lambda r, g: (2.0 * g * r[0] * r[2], g * r[1]))


@tg.custom_jvp
def softplus(x):
    return tg.log(1.0 + tg.exp(x))


softplus.defjvp(lambda p, t: (softplus(p[0]), 3.0 * t[0] * tg.sigmoid(p[0])))  # 3x the true tangent


@functools.partial(tg.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient(lo, hi, x):  # static bounds (JAX's documented example of nondiff_argnums)
    return x


clip_gradient.defvjp(lambda lo, hi, x: (x, None), lambda lo, hi, _, g: (tg.clip(g, lo, hi),))


def _jax_rules(jax):
    jnp = jax.numpy

    @jax.custom_vjp
    def j_scaled_sin(x, w):
        return jnp.sin(x) * w

    j_scaled_sin.defvjp(lambda x, w: (jnp.sin(x) * w, (jnp.cos(x), jnp.sin(x), w)),
                        lambda r, g: (2.0 * g * r[0] * r[2], g * r[1]))

    @jax.custom_jvp
    def j_softplus(x):
        return jnp.log(1.0 + jnp.exp(x))

    j_softplus.defjvp(lambda p, t: (j_softplus(p[0]), 3.0 * t[0] * jax.nn.sigmoid(p[0])))
    @functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
    def j_clip_gradient(lo, hi, x):
        return x

    j_clip_gradient.defvjp(lambda lo, hi, x: (x, None), lambda lo, hi, _, g: (jnp.clip(g, lo, hi),))
    return j_scaled_sin, j_softplus, j_clip_gradient


def _segment(h, params):
    for w, b in params:
        h = tg.tanh(h @ w + b)
    return h


def _j_segment(jnp, h, params):
    for w, b in params:
        h = jnp.tanh(h @ w + b)
    return h


def _layers(rng, n=4, width=5):
    return [(rng.standard_normal((width, width)) / np.sqrt(width), rng.standard_normal(width) * 0.1)
            for _ in range(n)]


def _checkpointed(ps, x):
    h = tg.checkpoint(_segment)(x, ps[:2])
    h = tg.checkpoint(_segment, policy="dots_saveable")(h, ps[2:])
    return tg.mean(h * h)


def _j_checkpointed(jax, ps, x):
    jnp = jax.numpy
    h = jax.checkpoint(functools.partial(_j_segment, jnp))(x, ps[:2])
    h = jax.checkpoint(functools.partial(_j_segment, jnp), policy=jax.checkpoint_policies.dots_saveable)(h, ps[2:])
    return jnp.mean(h * h)


def _nt_loss(p, x):
    return tg.mean(tg.tanh(x @ p.w + p.b) ** 2)


def _j_nt_loss(jnp, p, x):
    return jnp.mean(jnp.tanh(x @ p.w + p.b) ** 2)


CASES = [
    Case("per_example_gradients",
         lambda p, xs, ys: tg.vmap(tg.grad(_loss), in_axes=(None, 0, 0))(p, xs, ys),
         lambda jax, p, xs, ys: jax.vmap(jax.grad(functools.partial(_j_loss, jax.numpy)), in_axes=(None, 0, 0))(p, xs, ys),
         _mlp_inputs),
    Case("nested_vmap_out_axes",
         lambda a, b: tg.vmap(tg.vmap(lambda u, v: tg.sum(tg.sin(u) * v), in_axes=(None, 0)), in_axes=(0, None),
                              out_axes=1)(a, b),
         lambda jax, a, b: jax.vmap(jax.vmap(lambda u, v: jax.numpy.sum(jax.numpy.sin(u) * v), in_axes=(None, 0)),
                                    in_axes=(0, None), out_axes=1)(a, b),
         lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((5, 3))]),
    Case("vmap_out_axes_pytree",
         lambda a, v: tg.vmap(lambda u, v: {"s": tg.sum(u * v), "t": tg.exp(u) * 2.0, "v": v}, in_axes=(1, None),
                              out_axes={"s": 0, "t": 1, "v": -1})(a, v),
         lambda jax, a, v: jax.vmap(lambda u, v: {"s": jax.numpy.sum(u * v), "t": jax.numpy.exp(u) * 2.0, "v": v},
                                    in_axes=(1, None), out_axes={"s": 0, "t": 1, "v": -1})(a, v),
         lambda rng: [rng.standard_normal((3, 6)), rng.standard_normal(3)]),
    Case("pytree_parameters_value_and_grad",
         lambda p, x: tg.value_and_grad(_nt_loss)(p, x),
         lambda jax, p, x: jax.value_and_grad(functools.partial(_j_nt_loss, jax.numpy))(p, x),
         lambda rng: [Params(rng.standard_normal((4, 3)), rng.standard_normal(3)), rng.standard_normal((6, 4))]),
    Case("grad_of_grad_and_jvp_of_grad",
         lambda x, t: (tg.grad(tg.grad(lambda s: tg.sin(s) * s))(x[0]), tg.jvp(tg.grad(lambda v: tg.sum(tg.sin(v) * v)))(x, t)),
         lambda jax, x, t: (jax.grad(jax.grad(lambda s: jax.numpy.sin(s) * s))(x[0]),
                            jax.jvp(jax.grad(lambda v: jax.numpy.sum(jax.numpy.sin(v) * v)), (x,), (t,))),
         lambda rng: [rng.standard_normal(4), rng.standard_normal(4)]),
    Case("custom_vjp_reverse_mode",
         lambda x, w: tg.grad(lambda x, w: tg.sum(scaled_sin(x, w) * x), wrt=(0, 1))(x, w),
         lambda jax, x, w: jax.grad(lambda x, w: jax.numpy.sum(_jax_rules(jax)[0](x, w) * x), argnums=(0, 1))(x, w),
         lambda rng: [rng.standard_normal(4), rng.standard_normal(4)]),
    # JAX has no forward mode for a custom_vjp function: its reverse-mode Jacobian, applied to the
    # tangent, is what tgraph's forward mode (the transposed bwd) must give.
    Case("custom_vjp_forward_mode",
         lambda x, w, t: tg.jvp(lambda x: scaled_sin(x, w))(x, t),
         lambda jax, x, w, t: (_jax_rules(jax)[0](x, w), jax.jacrev(lambda x: _jax_rules(jax)[0](x, w))(x) @ t),
         lambda rng: [rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)]),
    Case("custom_vjp_hvp",
         lambda x, w, t: tg.hvp(lambda x: tg.sum(scaled_sin(x, w) * x))(x, t),
         lambda jax, x, w, t: jax.jacrev(jax.grad(lambda x: jax.numpy.sum(_jax_rules(jax)[0](x, w) * x)))(x) @ t,
         lambda rng: [rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)]),
    Case("custom_jvp_reverse_mode",
         lambda x: tg.value_and_grad(lambda x: tg.sum(softplus(x) * tg.cos(x)))(x),
         lambda jax, x: jax.value_and_grad(lambda x: jax.numpy.sum(_jax_rules(jax)[1](x) * jax.numpy.cos(x)))(x),
         lambda rng: [rng.standard_normal(5)]),
    Case("custom_jvp_forward_mode",
         lambda x, t: tg.jvp(softplus)(x, t),
         lambda jax, x, t: jax.jvp(_jax_rules(jax)[1], (x,), (t,)),
         lambda rng: [rng.standard_normal(5), rng.standard_normal(5)]),
    Case("custom_vjp_nondiff_argnums",
         lambda x: tg.grad(lambda x: tg.sum(tg.sin(clip_gradient(-0.5, 0.75, x * 2.0)) * 4.0))(x),
         lambda jax, x: jax.grad(lambda x: jax.numpy.sum(jax.numpy.sin(_jax_rules(jax)[2](-0.5, 0.75, x * 2.0)) * 4.0))(x),
         lambda rng: [rng.standard_normal(6)]),
    Case("checkpoint_both_policies",
         lambda ps, x: tg.value_and_grad(_checkpointed)(ps, x),
         lambda jax, ps, x: jax.value_and_grad(functools.partial(_j_checkpointed, jax))(ps, x),
         lambda rng: [_layers(rng), rng.standard_normal((3, 5))]),
    Case("per_example_gradients_of_a_checkpointed_custom_function",
         lambda ps, xs: tg.vmap(tg.grad(lambda ps, x: tg.sum(softplus(_checkpointed(ps, x[None, :])))),
                                in_axes=(None, 0))(ps, xs),
         lambda jax, ps, xs: jax.vmap(jax.grad(lambda ps, x: jax.numpy.sum(_jax_rules(jax)[1](
             _j_checkpointed(jax, ps, x[None, :])))), in_axes=(None, 0))(ps, xs),
         lambda rng: [_layers(rng), rng.standard_normal((3, 5))]),
]


# ----------------------------------------------------------------------------- the four ways
def _specs(args):
    return [tg.tree_map(lambda a: tg.TensorSpec.of(np.asarray(a)), a) for a in args]


@functools.lru_cache(maxsize=None)
def _graph(name):
    case = next(c for c in CASES if c.name == name)
    return tg.trace(case.fn, _specs(case.make_inputs(np.random.default_rng(0))))


def _inputs(case):
    return case.make_inputs(np.random.default_rng(0))


def _assert_trees_close(got, want, rtol=1e-10, atol=1e-12):
    got_leaves, want_leaves = tg.tree_leaves(got), tg.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves), (got, want)
    for g, w in zip(got_leaves, want_leaves):
        g = g.numpy() if hasattr(g, "numpy") else g
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interpreter_against_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    args = _inputs(case)
    want = case.jax_fn(jax, *args)
    got = _graph(case.name)(*args)  # a Graph called on arrays: the reference interpreter
    _assert_trees_close(got, want)
    assert _shape_of(got) == _shape_of(want)  # the results keep JAX's structure (dicts, namedtuples, tuples)


def _shape_of(tree):
    """The structure of a result, with JAX's arrays and numpy's alike."""
    return tg.tree_flatten(tg.tree_map(lambda leaf: np.shape(leaf), tree))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_compiled_on_the_cpu(case):
    args = _inputs(case)
    _assert_trees_close(tg.jit(case.fn)(*args), _graph(case.name)(*args))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_compiled_for_the_gpu_on_its_emulator(case, emulated_gpu):
    args = _inputs(case)
    graph = _graph(case.name)
    gpu = tg.compile_out(graph, target="cuda")
    got = gpu.forward(*args)
    assert all(isinstance(leaf, tg.DeviceArray) for leaf in tg.tree_leaves(got))
    _assert_trees_close(got, graph(*args))


@pytest.mark.skipif(ptx.ptxas_path() is None, reason="ptxas not found (install tgraph[cuda] or a CUDA toolkit)")
def test_every_case_assembles_for_sm90():
    for case in CASES:
        exe = CudaExecutable(_graph(case.name))
        assert ptx.assemble(exe.ptx, 90), case.name
