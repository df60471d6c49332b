"""Pytrees in tg.trace and Graph calls: arguments and results as dicts, lists, tuples and
namedtuples of Vars; tg.tree_map and friends; errors naming a leaf's path."""

import collections

import numpy as np
import pytest

import tgraph as tg

Params = collections.namedtuple("Params", "w b")


def layer(params, x):
    return {"out": tg.sum(tg.tanh(x @ params["w"] + params["b"][0])), "pre": x @ params["w"]}


def test_structured_arguments_and_results():
    graph = tg.trace(layer, [{"w": tg.f64[3, 2], "b": [tg.f64[2]]}, tg.f64[4, 3]])
    # Leaves in optree's order (dict keys sorted, as in JAX): b, w, then x.
    assert [s.shape for s in graph.input_specs] == [(2,), (3, 2), (4, 3)]
    params, x = {"w": np.full((3, 2), 0.1), "b": [np.zeros(2)]}, np.ones((4, 3))
    result = graph(params, x)
    assert set(result) == {"out", "pre"}
    np.testing.assert_allclose(result["pre"], x @ params["w"])
    np.testing.assert_allclose(result["out"], np.tanh(x @ params["w"]).sum())


def test_namedtuples_and_nesting():
    graph = tg.trace(lambda p, xs: [p.w * xs[0], (p.b + xs[1],)], [Params(tg.f32[2], tg.f32[2]), (tg.f32[2], tg.f32[2])])
    one = np.ones(2, np.float32)
    out = graph(Params(one * 2, one * 3), (one * 5, one * 7))
    assert isinstance(out, list) and isinstance(out[1], tuple)
    np.testing.assert_allclose(out[0], 10)
    np.testing.assert_allclose(out[1][0], 10)


def test_flat_functions_keep_their_calling_convention():
    graph = tg.trace(lambda a, b: (a + b, a * b), [tg.f32[2], tg.f32[2]])
    out = graph(np.ones(2, np.float32), np.ones(2, np.float32))
    assert isinstance(out, tuple) and len(out) == 2


def test_a_wrong_structure_or_leaf_names_it():
    graph = tg.trace(layer, [{"w": tg.f64[3, 2], "b": [tg.f64[2]]}, tg.f64[4, 3]])
    with pytest.raises(tg.TGraphError, match="structure"):
        graph({"w": np.ones((3, 2))}, np.ones((4, 3)))
    with pytest.raises(tg.TGraphTypeError, match=r"input_specs\[0\]\['b'\]\[0\]"):
        tg.trace(layer, [{"w": tg.f64[3, 2], "b": [tg.f64]}, tg.f64[4, 3]])
    with pytest.raises(tg.TGraphTypeError, match=r"returned str \(at result\['a'\]\)"):
        tg.trace(lambda x: {"a": "text", "b": x}, [tg.f32[2]])


def test_tree_functions():
    tree = {"a": np.ones(2), "b": [np.zeros(3), np.full(1, 2.0)]}
    doubled = tg.tree_map(lambda v: v * 2, tree)
    np.testing.assert_allclose(doubled["b"][1], 4.0)
    leaves, structure = tg.tree_flatten(tree)
    assert len(leaves) == 3 and len(tg.tree_leaves(tree)) == 3
    again = tg.tree_unflatten(structure, leaves)
    assert set(again) == {"a", "b"}
