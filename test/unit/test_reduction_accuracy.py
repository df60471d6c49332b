"""Float sums are blocked (passes/lowering/reduction.py): their rounding error grows like log(n),
not n. Each bound here is met with margin by the blocked sums and missed by far by a sum in one
running accumulator (in brackets: the error of that, measured before blocking)."""

import warnings

import numpy as np
import pytest

import tgraph as tg

TENTHS = 10 ** 7


def relative_error(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got - want) / np.abs(want)))


def compiled_sum(shape, axis=None, dtype=tg.f32, keepdims=False):
    return tg.compile_out(lambda x: tg.sum(x, axis=axis, keepdims=keepdims), [dtype[shape]]).forward


def test_ten_million_tenths():
    x = np.full(TENTHS, 0.1, np.float32)
    assert relative_error(compiled_sum(x.shape)(x), x.astype(np.float64).sum()) < 1e-5  # [6e-3]


def test_ten_million_uniform_values():
    x = np.random.default_rng(0).random(TENTHS, dtype=np.float32)
    assert relative_error(compiled_sum(x.shape)(x), x.astype(np.float64).sum()) < 1e-6  # [5e-6]


def test_column_sums():
    x = np.full((TENTHS // 4, 4), 0.1, np.float32)
    assert relative_error(compiled_sum(x.shape, axis=0)(x), x.astype(np.float64).sum(0)) < 1e-5  # [2e-2]


def test_mean():
    x = np.full(TENTHS, 0.1, np.float32)
    got = tg.compile_out(lambda x: tg.mean(x), [tg.f32[x.shape]]).forward(x)
    assert relative_error(got, x.astype(np.float64).mean()) < 1e-5  # [6e-3]


@pytest.mark.parametrize("shape, axis", [((TENTHS + 3,), None), ((3, 1_000_003), 1), ((1_000_003, 3), 0)],
                         ids=["1-D", "rows", "columns"])
def test_sizes_that_do_not_divide_into_blocks(shape, axis):
    x = np.full(shape, 0.1, np.float32)
    assert relative_error(compiled_sum(shape, axis)(x), x.astype(np.float64).sum(axis)) < 1e-5


@pytest.mark.parametrize("shape, axis", [((1000, 3, 1001), (0, 2)), ((1000, 1000, 3), (0, 1)), ((3, 1000, 1000), (1, 2))],
                         ids=["apart", "leading", "trailing"])
def test_several_axes(shape, axis):
    x = np.full(shape, 0.1, np.float32)
    assert relative_error(compiled_sum(shape, axis)(x), x.astype(np.float64).sum(axis)) < 1e-5


@pytest.mark.parametrize("shape, axis, keepdims", [
    ((1, 5000), 1, False), ((5000, 1), 0, True), ((0, 5000), 0, False), ((5000, 0), 0, False),
    ((2, 0, 3000), (1, 2), True), ((7, 4099, 2), 1, True), ((4099,), 0, True)])
def test_shapes(shape, axis, keepdims):
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    got = compiled_sum(shape, axis, keepdims=keepdims)(x)
    want = x.astype(np.float64).sum(axis, keepdims=keepdims)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_half_precision_accumulates_in_f32():
    x = np.full(300_000, 0.1, np.float16)
    got = compiled_sum(x.shape, dtype=tg.f16)(x)
    assert got.dtype == np.float16 and got == np.float16(x.astype(np.float64).sum())


def test_f64():
    x = np.full(TENTHS, 0.1)
    assert relative_error(compiled_sum(x.shape, dtype=tg.f64)(x), np.sum(x)) < 1e-14


def test_gradient_through_a_large_sum():
    x = np.full(TENTHS // 10, 0.1, np.float32)
    value, (grad,) = tg.compile_scalar(lambda x: tg.sum(x * x), [tg.f32[x.shape]]).value_and_grad(x)
    assert relative_error(value, (x.astype(np.float64) ** 2).sum()) < 1e-5
    np.testing.assert_array_equal(np.asarray(grad), 2 * x)


@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((3, 0), 1), ((0,), None)])
def test_mean_over_an_empty_axis_is_nan(shape, axis):
    fn, x = (lambda x: tg.mean(x, axis=axis)), np.zeros(shape, np.float32)
    with pytest.warns(RuntimeWarning, match="empty"):
        compiled = tg.compile_out(fn, [tg.f32[shape]]).forward(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        graph = tg.trace(fn, [tg.f32[shape]])
        want = np.mean(x, axis=axis)
    assert np.all(np.isnan(compiled)) and np.all(np.isnan(tg.interpret(graph, x)))
    assert np.shape(compiled) == np.shape(want) and np.all(np.isnan(want))
