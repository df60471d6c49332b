"""custom_vjp, custom_jvp and checkpoint: the rules are used (rules that differ from the true
derivative on purpose show it), each mode the rule does not give directly is its transpose
(checked by the dot-product identity <bwd(g), t> = <g, jvp(t)>), nonlinear rules are errors,
second order, vmap, pytrees, compiled code, the IR, misuse. Against JAX, in the interpreter, on the
CPU and on the GPU emulator: test_transforms_everywhere.py."""

import functools

import numpy as np
import pytest

import tgraph as tg
from tgraph import dialect
from tgraph.passes.cpu.tg_record_allocations import peak_bytes
from tgraph.support.mlir import ir

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
T = RNG.standard_normal(4)


# ----------------------------------------------------------------------------- rules
@tg.custom_vjp
def clip_gradient(x):
    return tg.sin(x)


def _clip_fwd(x):
    return tg.sin(x), tg.cos(x)


def _clip_bwd(cos_x, g):
    return (tg.clip(g, -0.5, 0.5) * cos_x,)  # nonlinear in g: no forward mode


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


@tg.custom_vjp
def scaled_sin(x, w):
    """sin(x) * w with a bwd that doubles x's cotangent (linear in g): the rule is visible."""
    return tg.sin(x) * w


def _scaled_fwd(x, w):
    return tg.sin(x) * w, (tg.cos(x), tg.sin(x), w)


def _scaled_bwd(residuals, g):
    cos_x, sin_x, w = residuals
    return 2.0 * g * cos_x * w, g * sin_x


scaled_sin.defvjp(_scaled_fwd, _scaled_bwd)


@tg.custom_jvp
def softplus(x):
    return tg.log(1.0 + tg.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), 3.0 * t * tg.sigmoid(x)  # 3x the true tangent: the rule is visible


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_custom_vjp_is_used_in_reverse_mode():
    w = RNG.standard_normal(4)
    gx, gw = tg.grad(lambda x, w: tg.sum(scaled_sin(x, w)), wrt=(0, 1))(X, w)
    np.testing.assert_allclose(gx, 2 * np.cos(X) * w, rtol=1e-12)
    np.testing.assert_allclose(gw, np.sin(X), rtol=1e-12)


def test_custom_vjp_in_forward_mode_transposes_bwd():
    """jvp(t) = bwd^T(t): <bwd(g), t> = <g, jvp(t)> for random g and t (bwd is linear in g)."""
    w = RNG.standard_normal(4)
    g = RNG.standard_normal(4)
    tw = RNG.standard_normal(4)
    _, dy = tg.jvp(scaled_sin, wrt=(0, 1))(X, w, T, tw)
    bx, bw = 2 * g * np.cos(X) * w, g * np.sin(X)
    np.testing.assert_allclose(np.dot(g, dy), np.dot(bx, T) + np.dot(bw, tw), rtol=1e-12)
    np.testing.assert_allclose(dy, 2 * np.cos(X) * w * T + np.sin(X) * tw, rtol=1e-12)


def test_hessian_and_hvp_of_a_custom_vjp_function():
    """Forward over reverse through a custom_vjp: what JAX refuses (jax#16049)."""
    w = RNG.standard_normal(4)
    f = lambda x: tg.sum(scaled_sin(x, w) * x)
    # grad = 2 cos(x) w x + sin(x) w; its derivative is the Hessian (diagonal)
    h = tg.hessian(tg.trace(f, [tg.f64[4]]))(X)
    want = np.diag(-2 * np.sin(X) * w * X + 2 * np.cos(X) * w + np.cos(X) * w)
    np.testing.assert_allclose(h, want, atol=1e-12)
    np.testing.assert_allclose(tg.hvp(f)(X, T), want @ T, atol=1e-12)


def test_custom_jvp_is_used_in_forward_mode_and_transposed_in_reverse():
    y, dy = tg.jvp(softplus)(X, T)
    np.testing.assert_allclose(y, np.log1p(np.exp(X)), rtol=1e-12)
    np.testing.assert_allclose(dy, 3 * T * _sigmoid(X), rtol=1e-12)
    g = tg.grad(lambda x: tg.sum(softplus(x) * x))(X)
    np.testing.assert_allclose(g, 3 * _sigmoid(X) * X + np.log1p(np.exp(X)), rtol=1e-12)


def test_second_order_through_a_custom_jvp():
    f = lambda x: tg.sum(softplus(x) ** 2)
    gg = tg.grad(lambda x: tg.sum(tg.grad(f)(x)))(X)
    grad_f = lambda x: 6 * np.log1p(np.exp(x)) * _sigmoid(x)  # 2 sp * (3 s): the rule's tangent
    h = 1e-6
    np.testing.assert_allclose(gg, (grad_f(X + h) - grad_f(X - h)) / (2 * h), rtol=1e-6)


def test_a_nonlinear_bwd_serves_reverse_mode_and_refuses_forward_mode():
    np.testing.assert_allclose(tg.grad(lambda x: tg.sum(clip_gradient(x) * 3.0))(X), np.clip(3.0, -.5, .5) * np.cos(X))
    with pytest.raises(tg.TGraphError, match=r"forward mode through the custom_vjp function .*clip_gradient.* "
                                             r"must be linear in the cotangents: tg.(maximum|minimum)"):
        tg.jvp(clip_gradient)(X, T)


def test_a_nonlinear_jvp_rule_refuses_reverse_mode():
    @tg.custom_jvp
    def f(x):
        return x * x

    f.defjvp(lambda p, t: (p[0] * p[0], t[0] * t[0]))
    np.testing.assert_allclose(tg.jvp(f)(X, T)[1], T * T)
    with pytest.raises(tg.TGraphError, match=r"reverse mode through the custom_jvp function .* must be linear "
                                             r"in the tangents: tg.mul is not linear"):
        tg.grad(lambda x: tg.sum(f(x)))(X)


def test_an_affine_rule_is_not_linear():
    @tg.custom_vjp
    def f(x):
        return tg.sin(x)

    f.defvjp(lambda x: (tg.sin(x), x), lambda x, g: (g + 1.0,))
    with pytest.raises(tg.TGraphError, match="tg.add is not linear"):
        tg.jvp(f)(X, T)


def test_rules_with_pytrees_and_none_cotangents():
    @tg.custom_vjp
    def f(params, x):
        return {"y": tg.tanh(x @ params["w"]) + params["b"]}

    def fwd(params, x):
        y = tg.tanh(x @ params["w"])
        return {"y": y + params["b"]}, (x, y, params["w"])

    def bwd(res, g):
        x, y, w = res
        d = g["y"] * (1 - y * y)
        return {"w": tg.transpose(x) @ d, "b": tg.sum(g["y"], axis=0)}, None

    f.defvjp(fwd, bwd)
    params = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    x = RNG.standard_normal((5, 3))
    loss = lambda p, x: tg.sum(f(p, x)["y"] ** 2)
    plain = lambda p, x: tg.sum((tg.tanh(x @ p["w"]) + p["b"]) ** 2)
    got, want = tg.grad(loss)(params, x), tg.grad(plain)(params, x)
    for k in ("w", "b"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12)
    assert np.all(tg.grad(loss, wrt=1)(params, x) == 0)  # bwd returned None for x


def test_vmap_of_custom_rules_and_of_their_derivatives():
    w = RNG.standard_normal(4)
    xs = RNG.standard_normal((3, 4))
    loss = lambda x, w: tg.sum(scaled_sin(x, w) + softplus(x))
    batched = tg.vmap(tg.grad(loss), in_axes=(0, None))(xs, w)
    looped = np.stack([tg.grad(loss)(x, w) for x in xs])
    np.testing.assert_allclose(batched, looped, rtol=1e-12)
    summed = tg.grad(lambda xs, w: tg.sum(tg.vmap(loss, in_axes=(0, None))(xs, w)))(xs, w)
    np.testing.assert_allclose(summed, looped, rtol=1e-12)
    np.testing.assert_allclose(tg.vmap(softplus)(xs), np.log1p(np.exp(xs)), rtol=1e-12)


def test_compiled_on_the_cpu_and_printed_in_the_ir():
    w = RNG.standard_normal(4)
    loss = lambda x, w: tg.sum(scaled_sin(x, w) + softplus(x))
    c = tg.compile_scalar(loss, [tg.f64[4], tg.f64[4]])
    np.testing.assert_allclose(c.forward(X, w), np.sum(np.sin(X) * w + np.log1p(np.exp(X))), rtol=1e-12)
    gx, gw = c.backward(X, w)
    np.testing.assert_allclose(gx, 2 * np.cos(X) * w + 3 * _sigmoid(X), rtol=1e-12)
    text = c.ir("tg")
    assert "tg.custom_vjp = [@scaled_sin_custom_vjp" in text and "tg.custom_jvp = @softplus_custom_jvp" in text
    assert "func.func private @scaled_sin_custom_vjp" in text
    assert "func.call" not in c.ir("linalg", entry="value_and_grad")  # tg-inline-calls ran


def test_custom_functions_evaluate_on_arrays():
    np.testing.assert_allclose(softplus(X), np.log1p(np.exp(X)), rtol=1e-12)
    np.testing.assert_allclose(scaled_sin(X, X), np.sin(X) * X, rtol=1e-12)


def test_misuse_is_a_clear_error():
    @tg.custom_vjp
    def no_rules(x):
        return x

    with pytest.raises(tg.TGraphError, match=r"no rules: call no_rules.defvjp\(fwd, bwd\)"):
        tg.grad(lambda x: tg.sum(no_rules(x)))(X)

    @tg.custom_vjp
    def short(x, y):
        return x * y

    short.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1],))
    with pytest.raises(tg.TGraphError, match="must return a tuple of 2 cotangent"):
        tg.grad(lambda x: tg.sum(short(x, x)))(X)

    @tg.custom_vjp
    def wrong_shape(x):
        return x

    wrong_shape.defvjp(lambda x: (x, ()), lambda r, g: (tg.sum(g),))
    with pytest.raises(tg.TGraphError, match=r"cotangent of argument 0 \(leaf 0\) is tensor<f64>, but the argument is tensor<4xf64>"):
        tg.grad(lambda x: tg.sum(wrong_shape(x)))(X)

    def outer(x):
        closure = tg.custom_vjp(lambda y: y * x)
        closure.defvjp(lambda y: (y * x, ()), lambda r, g: (g,))
        return tg.sum(closure(x))

    with pytest.raises(tg.TGraphError, match="uses a Var of the function it is called from"):
        tg.trace(outer, [tg.f64[4]])
    with pytest.raises(tg.TGraphError, match="unknown policy 'everything'"):
        tg.checkpoint(lambda x: x, policy="everything")


# ----------------------------------------------------------------------------- nondiff_argnums
@functools.partial(tg.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient_between(lo, hi, x):  # JAX's documented example
    return x


clip_gradient_between.defvjp(lambda lo, hi, x: (x, None), lambda lo, hi, _, g: (tg.clip(g, lo, hi),))


@functools.partial(tg.custom_jvp, nondiff_argnums=(0,))
def apply_with_doubled_tangent(f, x):
    return f(x)


@apply_with_doubled_tangent.defjvp
def _apply_jvp(f, primals, tangents):
    (x,), (t,) = primals, tangents
    return f(x), 2.0 * t  # linear in t: reverse mode transposes it


def test_nondiff_argnums_are_static_values_passed_to_the_rules():
    x = np.linspace(-1.0, 1.0, 4)
    for lo, hi in ((-0.5, 0.5), (-2.0, 0.25)):  # each pair is its own signature
        got = tg.grad(lambda x: tg.sum(3.0 * clip_gradient_between(lo, hi, x)))(x)
        np.testing.assert_allclose(got, np.clip(3.0, lo, hi) * np.ones(4))
    assert len(clip_gradient_between._traced) == 2
    np.testing.assert_allclose(tg.jvp(lambda x: apply_with_doubled_tangent(tg.sin, x))(x, T)[1], 2.0 * T)
    np.testing.assert_allclose(tg.grad(lambda x: tg.sum(apply_with_doubled_tangent(tg.tanh, x) * x))(x),
                               np.tanh(x) + 2.0 * x)
    # on arrays: compiled once per static value
    np.testing.assert_allclose(apply_with_doubled_tangent(tg.sin, x), np.sin(x))
    np.testing.assert_allclose(apply_with_doubled_tangent(tg.cos, x), np.cos(x))


def test_checkpoint_static_argnums():
    def layers(n, h, w):
        for _ in range(n):
            h = tg.tanh(h @ w)
        return h

    w, x = np.eye(3) * 0.7, np.ones((2, 3))
    plain = tg.grad(lambda w: tg.sum(layers(3, x, w)))(w)
    remat = tg.grad(lambda w: tg.sum(tg.checkpoint(layers, static_argnums=(0,))(3, x, w)))(w)
    np.testing.assert_allclose(remat, plain, rtol=1e-12)


def test_nondiff_argnums_misuse_is_a_clear_error():
    with pytest.raises(tg.TGraphError, match="is in nondiff_argnums, which takes static Python values"):
        tg.grad(lambda x: tg.sum(clip_gradient_between(x, 1.0, x)))(X)
    with pytest.raises(tg.TGraphError, match=r"must be hashable \(it is part of the signature\); got list"):
        tg.grad(lambda x: tg.sum(clip_gradient_between([0], 1.0, x)))(X)
    with pytest.raises(tg.TGraphError, match=r"called with 1 argument\(s\), but nondiff_argnums=\(0, 1\) names argument 1"):
        tg.grad(lambda x: tg.sum(clip_gradient_between(x)))(X)
    with pytest.raises(tg.TGraphError, match="give distinct non-negative argument indices"):
        tg.custom_vjp(lambda x: x, nondiff_argnums=(-1,))
    with pytest.raises(tg.TGraphError, match="give a tuple of argument indices"):
        tg.custom_jvp(lambda x: x, nondiff_argnums=0)

    @functools.partial(tg.custom_vjp, nondiff_argnums=(0,))
    def scaled(k, x):
        return k * x

    scaled.defvjp(lambda k, x: (k * x, ()), lambda k, r, g: (k * g, g))  # one cotangent too many
    with pytest.raises(tg.TGraphError, match=r"a tuple of 1 cotangent\(s\), one per argument not in nondiff_argnums"):
        tg.grad(lambda x: tg.sum(scaled(2.0, x)))(X)


# ----------------------------------------------------------------------------- checkpoint
def _layer(h, w, b):
    return tg.tanh(h @ w + b)


def _segment(h, params):
    for w, b in params:
        h = _layer(h, w, b)
    return h


def _mlp(policy, layers=4, every=2):
    def loss(params, x):
        h = x
        for k in range(0, layers, every):
            part = params[k:k + every]
            h = _segment(h, part) if policy == "keep" else tg.checkpoint(_segment, policy=policy)(h, part)
        return tg.mean(h * h)
    return loss


def _params(layers, width, rng):
    return [(rng.standard_normal((width, width)) / np.sqrt(width), rng.standard_normal(width) * 0.1)
            for _ in range(layers)]


@pytest.mark.parametrize("policy", [None, "dots_saveable"])
def test_checkpoint_gives_the_same_gradients_and_recomputes(policy):
    rng = np.random.default_rng(1)
    params, x = _params(4, 6, rng), rng.standard_normal((3, 6))
    want = tg.grad(_mlp("keep"))(params, x)
    got = tg.grad(_mlp(policy))(params, x)
    for (gw, gb), (ww, wb) in zip(got, want):
        np.testing.assert_allclose(gw, ww, rtol=1e-12)
        np.testing.assert_allclose(gb, wb, rtol=1e-12)
    specs = [[(tg.f64[6, 6], tg.f64[6]) for _ in range(4)], tg.f64[3, 6]]
    adjoint = tg.autodiff.grad(tg.trace(_mlp(policy), specs), wrt=list(range(8))).ir()
    plain = tg.autodiff.grad(tg.trace(_mlp("keep"), specs), wrt=list(range(8))).ir()
    # The reverse sweep recomputes the tanh layers (from barriers on the segments' arguments);
    # dots_saveable keeps the products, so it has no more of them than without checkpointing.
    assert adjoint.count("tg.optimization_barrier") > 0 and adjoint.count('"tg.tanh"') > plain.count('"tg.tanh"')
    if policy == "dots_saveable":
        assert adjoint.count('"tg.dot_general"') == plain.count('"tg.dot_general"')
    else:
        assert adjoint.count('"tg.dot_general"') > plain.count('"tg.dot_general"')


def _peak(compiled):
    with dialect.context():
        return peak_bytes(ir.Module.parse(compiled.ir("bufferized", entry="value_and_grad")).operation)


def test_checkpoint_lowers_the_peak_of_the_compiled_code():
    """The compiled value_and_grad frees each buffer after its last use (tg-early-dealloc), so
    recomputing segments instead of keeping their activations lowers the peak."""
    rng = np.random.default_rng(2)
    layers, width, batch = 8, 64, 1024  # activations (256 KiB) well above the parameters (16 KiB)
    specs = [[(tg.f32[width, width], tg.f32[width]) for _ in range(layers)], tg.f32[batch, width]]
    kept = tg.compile_scalar(_mlp("keep", layers, 4), specs, wrt=[0])
    remat = tg.compile_scalar(_mlp(None, layers, 4), specs, wrt=[0])
    assert _peak(remat) < 0.8 * _peak(kept)
    params = [(w.astype(np.float32), b.astype(np.float32)) for w, b in _params(layers, width, rng)]
    x = rng.standard_normal((batch, width)).astype(np.float32)
    (v1, g1), (v2, g2) = kept.value_and_grad(params, x), remat.value_and_grad(params, x)
    np.testing.assert_allclose(v1, v2, rtol=1e-5)
    np.testing.assert_allclose(g1[0][0][0], g2[0][0][0], rtol=1e-4, atol=1e-6)


def test_checkpoint_in_forward_mode_and_under_vmap():
    rng = np.random.default_rng(3)
    params, xs = _params(2, 3, rng), rng.standard_normal((4, 2, 3))
    f = lambda x: _mlp(None, 2, 1)(params, x)
    g = lambda x: _mlp("keep", 2, 1)(params, x)
    np.testing.assert_allclose(tg.jvp(f)(xs[0], xs[1])[1], tg.jvp(g)(xs[0], xs[1])[1], rtol=1e-12)
    np.testing.assert_allclose(tg.vmap(tg.grad(f))(xs), tg.vmap(tg.grad(g))(xs), rtol=1e-12)
