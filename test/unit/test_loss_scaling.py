"""Dynamic loss scaling for f16 training (tg.optim.DynamicLossScale, all_finite, select_tree):
small gradients that f16 flushes to zero survive a scaled loss; a step whose gradients overflow is
skipped and the scale lowered; the scale grows after enough finite steps."""

import numpy as np
import pytest

import tgraph as tg
from tgraph import optim

rng = np.random.default_rng(0)
X = rng.standard_normal((64, 8)).astype(np.float32)
Y = X @ rng.standard_normal((8, 1)).astype(np.float32)


def loss_f16(w, x, y, factor):
    """f16 compute, f32 master weights: the casts are inside the step."""
    out = x.astype(tg.f16) @ w.astype(tg.f16)
    return tg.mean(((out - y.astype(tg.f16)) ** 2).astype(tg.f32)) * factor


def loss_f32(w, x, y, factor):
    return tg.mean((x @ w - y) ** 2) * factor


def scaled_step(scaler, optimizer, factor):
    @tg.jit
    def step(w, opt_state, scale_state, x, y):
        loss, grads = tg.value_and_grad(lambda w: scaler.scale(loss_f16(w, x, y, factor), scale_state))(w)
        grads = scaler.unscale(grads, scale_state)
        finite = optim.all_finite(grads)
        updates, new_opt_state = optimizer.update(grads, opt_state, w)
        w, opt_state = optim.select_tree(finite, (optim.apply_updates(w, updates), new_opt_state), (w, opt_state))
        return w, opt_state, scaler.adjust(scale_state, finite), finite, grads
    return step


def test_scaling_keeps_gradients_that_f16_flushes_to_zero():
    w = np.full((8, 1), 0.1, np.float32)
    factor = 1e-8  # the seed 1e-8 is below f16's smallest subnormal (6e-8): the gradients vanish
    unscaled = tg.jit(tg.grad(lambda w, x, y: loss_f16(w, x, y, factor)))(w, X, Y)
    assert not np.any(unscaled)
    exact = tg.jit(tg.grad(lambda w, x, y: loss_f32(w, x, y, factor)))(w, X, Y)
    scaler = optim.DynamicLossScale(initial_scale=2.0 ** 15)
    *_, finite, grads = scaled_step(scaler, optim.sgd(0.0), factor)(w, optim.sgd(0.0).init(w), scaler.init(), X, Y)
    assert bool(finite)
    np.testing.assert_allclose(grads, exact, rtol=2e-2, atol=1e-3 * np.abs(exact).max())


def test_overflowing_steps_are_skipped_and_the_scale_adjusts():
    scaler = optim.DynamicLossScale(initial_scale=2.0 ** 40, growth_interval=3)
    optimizer = optim.adam(1e-2)
    step = scaled_step(scaler, optimizer, 1.0)
    w = np.zeros((8, 1), np.float32)
    opt_state, scale_state = optimizer.init(w), scaler.init()
    history = []
    for _ in range(40):
        new_w, opt_state, scale_state, finite, _ = step(w, opt_state, scale_state, X, Y)
        history.append((bool(finite), float(scale_state.scale), int(scale_state.good_steps)))
        if not finite:  # skipped: the parameters and Adam's state stay as they were
            np.testing.assert_array_equal(new_w, w)
            assert int(opt_state[0].count) == sum(f for f, _, _ in history)
        w = new_w
    first = next(k for k, (f, _, _) in enumerate(history) if f)  # 2^40 overflows f16 until it is low enough
    assert first > 10 and [s for _, s, _ in history[:first]] == [2.0 ** (39 - k) for k in range(first)]
    # then three finite steps in a row double the scale (which may overflow again: then halved)
    assert history[first][0] and history[first][2] == 1
    assert history[first + 2] in ((True, 2.0 * history[first][1], 0), (False, history[first][1] / 2, 0))
    assert float(tg.jit(lambda w, x, y: loss_f32(w, x, y, 1.0))(w, X, Y)) < float(np.mean(Y ** 2))


def test_adjust_on_arrays_follows_the_rule():
    scaler = optim.DynamicLossScale(initial_scale=8.0, growth_interval=2, factor=2.0, min_scale=2.0)
    state = scaler.init()
    seen = []
    for finite in (True, True, True, False, False, False, True):
        state = scaler.adjust(state, np.bool_(finite))
        seen.append((float(state.scale), int(state.good_steps)))
    assert seen == [(8.0, 1), (16.0, 0), (16.0, 1), (8.0, 0), (4.0, 0), (2.0, 0), (2.0, 1)]
    assert state.scale.dtype == np.float32 and state.good_steps.dtype == np.int32
    assert optim.all_finite({"a": np.ones(3), "b": [np.zeros(2)]}) and not optim.all_finite([np.array([1.0, np.nan])])


def test_all_finite_compiled_matches_numpy():
    check = tg.jit(optim.all_finite)
    for bad in (None, np.inf, -np.inf, np.nan):
        tree = {"a": np.ones((3, 4), np.float32), "b": np.linspace(-1, 1, 5)}
        if bad is not None:
            tree["a"][1, 2] = bad
        assert bool(check(tree)) == (bad is None) == bool(optim.all_finite(tree))


def test_loss_scale_misuse_is_a_clear_error():
    with pytest.raises(tg.TGraphTypeError, match="initial_scale must be a positive number"):
        optim.DynamicLossScale(initial_scale=0)
    with pytest.raises(tg.TGraphTypeError, match="growth_interval must be a positive int"):
        optim.DynamicLossScale(growth_interval=0.5)
    with pytest.raises(tg.TGraphTypeError, match="got a state of tuple, not DynamicLossScaleState"):
        optim.DynamicLossScale().scale(1.0, (1.0, 0))
