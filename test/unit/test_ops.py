"""Every op: result-type inference, the interpreter against independent numpy references,
and the print/parse round trip."""

import numpy as np
import pytest

import tgraph as tg
from tgraph.dialect import ALL_OPS
from tgraph.dialect.random import hash32, random_bits
from op_table import CASES

RTOL = {"f16": 2e-3, "bf16": 1e-2, "f32": 1e-5, "f64": 1e-12, "i1": 0, "i32": 0, "i64": 0}


def ops_in(graph):
    return {op.operation.name[3:] for op in graph.func_op().regions[0].blocks[0].operations
            if op.operation.name.startswith("tg.")}


@pytest.fixture(scope="module")
def traced():
    return {c.id: tg.trace(c.fn, c.specs) for c in CASES}


def test_every_op_has_cases(traced):
    exercised = set().union(*map(ops_in, traced.values()))
    missing = [op for op in ALL_OPS if op not in exercised]
    assert not missing, f"ops with no case in the op table: {missing}"
    for c in CASES:
        assert c.op in ops_in(traced[c.id]), f"case {c.id} does not build tg.{c.op}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interpreter_matches_numpy(case, traced):
    graph = traced[case.id]
    rng = np.random.default_rng(0)
    args = case.make_inputs(rng)
    got = graph(*args)
    want = np.asarray(case.ref(*args))
    (out_spec,) = graph.output_specs
    # Result-type inference: the traced output type is what numpy computes.
    assert out_spec.shape == want.shape
    assert got.dtype == out_spec.np_dtype and got.shape == out_spec.shape
    tol = case.tol or RTOL[out_spec.dtype]
    if out_spec.dtype in ("i1", "i32", "i64"):
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_round_trip(case, traced):
    graph = traced[case.id]
    text = graph.ir()
    again = tg.Graph.parse(text)
    assert again.verify()
    assert again.ir() == text


def test_uniform_statistics_and_reproducibility():
    g = tg.trace(lambda k: tg.uniform(k, (100_000,), tg.f64), [tg.i64[()]])
    a, b, c = g(np.int64(7)), g(np.int64(7)), g(np.int64(8))
    np.testing.assert_array_equal(a, b)
    assert (a != c).mean() > 0.99
    assert a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.var() - 1 / 12) < 0.005
    # Narrow types stay below 1 (rounding down).
    h = tg.trace(lambda k: tg.uniform(k, (100_000,), tg.f16), [tg.i32[()]])(np.int32(3))
    assert h.max() < 1


def test_random_bits_follow_the_documented_hash():
    def lowbias32(x):  # written out on Python ints, independently of the numpy version
        x &= 0xFFFFFFFF
        x ^= x >> 16
        x = (x * 0x7FEB352D) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x846CA68B) & 0xFFFFFFFF
        return x ^ (x >> 16)

    key = (5 << 32) | 123
    seed = lowbias32(123 ^ lowbias32(5 + 0x9E3779B9))
    want = [lowbias32(i * 0x9E3779B9 + seed) for i in range(6)]
    assert random_bits(np.int64(key), (2, 3)).ravel().tolist() == want
    assert hash32(np.uint32(1)) == lowbias32(1)


def test_bernoulli_rate():
    g = tg.trace(lambda k: tg.bernoulli(k, 0.25, (200_000,)).astype(tg.f32), [tg.i32[()]])
    assert abs(g(np.int32(1)).mean() - 0.25) < 0.005
    assert tg.trace(lambda k: tg.bernoulli(k, 0.0, (100,)).astype(tg.f32), [tg.i32[()]])(np.int32(1)).sum() == 0
    assert tg.trace(lambda k: tg.bernoulli(k, 1.0, (100,)).astype(tg.f32), [tg.i32[()]])(np.int32(1)).sum() == 100
