"""tg.optim against optax's formulas, written out in numpy below (optax itself too, where it is
installed): every optimizer over 25 steps of changing gradients on dict parameters, on arrays and
inside a compiled train step; a whole Adam train step (forward, backward, update) as one graph
against numpy Adam on a hand-derived gradient; schedules; misuse."""

import math

import numpy as np
import pytest

import tgraph as tg
from tgraph import optim

STEPS = 25


def _params(rng):
    return {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}


def _gradients(rng, steps=STEPS):
    return [{"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)} for _ in range(steps)]


# ----------------------------------------------------------------------------- numpy references
class Reference:
    """optax's update rules, one parameter array at a time."""

    def __init__(self, kind, lr=0.01, momentum=0.0, nesterov=False, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4,
                 max_norm=None):
        self.kind, self.lr, self.momentum, self.nesterov = kind, lr, momentum, nesterov
        self.b1, self.b2, self.eps, self.weight_decay, self.max_norm = b1, b2, eps, weight_decay, max_norm
        self.count, self.state = 0, {}

    def rate(self):
        return self.lr(self.count) if callable(self.lr) else self.lr

    def step(self, params, grads):
        if self.max_norm is not None:
            norm = math.sqrt(sum(np.sum(g * g) for g in grads.values()))
            if norm >= self.max_norm:
                grads = {k: g / norm * self.max_norm for k, g in grads.items()}
        out = {}
        for k, g in grads.items():
            m, v = self.state.get(k, (np.zeros_like(g), np.zeros_like(g)))
            if self.kind == "sgd":
                if self.momentum:
                    m = g + self.momentum * m
                    d = g + self.momentum * m if self.nesterov else m
                else:
                    d = g
            else:
                m = self.b1 * m + (1 - self.b1) * g
                v = self.b2 * v + (1 - self.b2) * g * g
                t = self.count + 1
                d = (m / (1 - self.b1 ** t)) / (np.sqrt(v / (1 - self.b2 ** t)) + self.eps)
                if self.kind == "adamw":
                    d = d + self.weight_decay * params[k]
            self.state[k] = (m, v)
            out[k] = params[k] - self.rate() * d
        self.count += 1
        return out


def _cosine(init, steps, alpha=0.0):
    return lambda t: init * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)) + alpha)


def _warmup_cosine(init, peak, warmup, steps, end):
    cosine = _cosine(peak, steps - warmup, end / peak)
    return lambda t: init + (peak - init) * t / warmup if t < warmup else cosine(t - warmup)


OPTIMIZERS = [
    ("sgd", lambda: optim.sgd(0.05), lambda: Reference("sgd", lr=0.05)),
    ("sgd_momentum", lambda: optim.sgd(0.05, momentum=0.9), lambda: Reference("sgd", lr=0.05, momentum=0.9)),
    ("sgd_nesterov", lambda: optim.sgd(0.05, momentum=0.8, nesterov=True),
     lambda: Reference("sgd", lr=0.05, momentum=0.8, nesterov=True)),
    ("adam", lambda: optim.adam(0.01), lambda: Reference("adam", lr=0.01)),
    ("adam_b1_b2_eps", lambda: optim.adam(0.02, b1=0.8, b2=0.99, eps=1e-3),
     lambda: Reference("adam", lr=0.02, b1=0.8, b2=0.99, eps=1e-3)),
    ("adamw", lambda: optim.adamw(0.01, weight_decay=0.1), lambda: Reference("adamw", lr=0.01, weight_decay=0.1)),
    ("adam_cosine_decay", lambda: optim.adam(optim.cosine_decay_schedule(0.05, 10, alpha=0.1)),
     lambda: Reference("adam", lr=_cosine(0.05, 10, 0.1))),
    ("adamw_warmup_cosine", lambda: optim.adamw(optim.warmup_cosine_decay_schedule(0.0, 0.05, 5, 20, 0.001)),
     lambda: Reference("adamw", lr=_warmup_cosine(0.0, 0.05, 5, 20, 0.001))),
    ("clip_then_sgd", lambda: optim.chain(optim.clip_by_global_norm(1.5), optim.sgd(0.1)),
     lambda: Reference("sgd", lr=0.1, max_norm=1.5)),
]


@pytest.mark.parametrize("name, make, reference", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_on_arrays_against_optax_formulas(name, make, reference):
    rng = np.random.default_rng(0)
    params, grads = _params(rng), _gradients(rng)
    opt, ref = make(), reference()
    state, want = opt.init(params), params
    got = params
    for g in grads:
        updates, state = opt.update(g, state, got)
        got = optim.apply_updates(got, updates)
        want = ref.step(want, g)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    assert isinstance(got["w"], np.ndarray) and got["w"].dtype == np.float64


@pytest.mark.parametrize("name, make, reference", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_inside_a_compiled_step(name, make, reference):
    """The same update traced into @jit: tg ops of the compiled function, compiled once."""
    rng = np.random.default_rng(1)
    params, grads = _params(rng), _gradients(rng)
    opt, ref = make(), reference()

    @tg.jit
    def step(params, state, g):
        updates, state = opt.update(g, state, params)
        return optim.apply_updates(params, updates), state

    state, got, want = opt.init(params), params, params
    for g in grads:
        got, state = step(got, state, g)
        want = ref.step(want, g)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    assert step.cache_size == 1


def test_adam_train_step_as_one_graph_against_numpy():
    """Forward, backward and Adam over dict parameters in one compiled function, 20 steps, against
    numpy Adam on the hand-derived gradient of a least-squares loss."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    params = _params(rng)
    opt = optim.adam(0.05)

    def loss(p, x, y):
        return tg.mean((x @ p["w"] + p["b"] - y) ** 2)

    @tg.jit
    def train_step(params, opt_state, x, y):
        value, grads = tg.value_and_grad(loss)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, value

    state, ref, want = opt.init(params), Reference("adam", lr=0.05), params
    got = params
    for _ in range(20):
        got, state, value = train_step(got, state, x, y)
        r = x @ want["w"] + want["b"] - y
        np.testing.assert_allclose(value, np.mean(r * r), rtol=1e-10)
        g = {"w": 2 * x.T @ r / r.size, "b": 2 * r.sum(0) / r.size}
        want = ref.step(want, g)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    assert int(state[0].count) == 20 and train_step.cache_size == 1
    graph = train_step.compiled(params, opt.init(params), x, y).graph
    text = graph.ir()
    assert '"tg.sqrt"' in text and '"tg.dot_general"' in text  # the update and the gradients, one function


def test_schedules_on_numbers_and_in_a_trace():
    counts = np.arange(25)
    warm = optim.warmup_cosine_decay_schedule(0.0, 1.0, 5, 20, 0.1)
    want = [_warmup_cosine(0.0, 1.0, 5, 20, 0.1)(t) for t in counts]
    np.testing.assert_allclose(warm(counts), want, rtol=1e-12)
    traced = tg.jit(lambda c: warm(c))
    np.testing.assert_allclose([traced(np.array(t, np.float64)) for t in counts], want, rtol=1e-12)
    linear = optim.linear_schedule(1.0, 0.0, 4, transition_begin=2)
    np.testing.assert_allclose(linear(counts[:8]), [1, 1, 1, 0.75, 0.5, 0.25, 0, 0])
    assert optim.constant_schedule(0.3)(7) == 0.3


def test_global_norm_clipping_only_above_the_norm():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([4.0])}
    clip = optim.clip_by_global_norm(10.0)
    out, _ = clip.update(g, clip.init(g))
    np.testing.assert_allclose(out["a"], g["a"])
    clip = optim.clip_by_global_norm(1.0)
    out, _ = clip.update(g, clip.init(g))
    np.testing.assert_allclose(out["a"], [0.6, 0.0])
    np.testing.assert_allclose(float(optim.global_norm(out)), 1.0)


def test_against_optax_where_installed():
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(3)
    params, grads = _params(rng), _gradients(rng)
    for ours, theirs in ((optim.adamw(0.01, weight_decay=0.05), optax.adamw(0.01, weight_decay=0.05)),
                         (optim.sgd(0.1, 0.9, nesterov=True), optax.sgd(0.1, 0.9, nesterov=True))):
        s1, s2, p1, p2 = ours.init(params), theirs.init(params), params, params
        for g in grads:
            u1, s1 = ours.update(g, s1, p1)
            u2, s2 = theirs.update(g, s2, p2)
            p1, p2 = optim.apply_updates(p1, u1), optax.apply_updates(p2, u2)
        for k in params:
            np.testing.assert_allclose(p1[k], np.asarray(p2[k]), rtol=1e-6)


def test_misuse_is_a_clear_error():
    with pytest.raises(tg.TGraphError, match="chain: argument 1 is int, not a GradientTransformation"):
        optim.chain(optim.sgd(0.1), 3)
    opt = optim.adamw(0.1)
    params = {"w": np.ones(2)}
    with pytest.raises(tg.TGraphError, match=r"adamw\) needs params"):
        opt.update(params, opt.init(params))
    with pytest.raises(tg.TGraphError, match="chain of 2 transformations got a state of dict"):
        optim.adam(0.1).update(params, {})
    with pytest.raises(tg.TGraphError, match="decay_steps must be positive"):
        optim.cosine_decay_schedule(0.1, 0)
    p = {"w": np.ones(2), "b": np.zeros(3)}
    adam = optim.adam(0.1)
    with pytest.raises(tg.TGraphError, match=r"adam: the gradients have the structure PyTreeSpec\(\{'w': \*\}\)"):
        adam.update({"w": np.ones(2)}, adam.init(p), p)
    with pytest.raises(tg.TGraphError, match=r"adam: the gradient at \['w'\] has shape \(3,\), but its parameter has \(2,\)"):
        adam.update({"w": np.ones(3), "b": np.zeros(3)}, adam.init(p), p)
    with pytest.raises(tg.TGraphError, match="adam got a state of TraceState, not ScaleByAdamState"):
        adam.update(p, optim.sgd(0.1, 0.9).init(p), p)
