"""Each misuse of the builders raises TGraphError with a message naming the op, the types and
the fix, and the traceback keeps the user's lines while cutting tgraph's internals."""

import traceback

import numpy as np
import pytest

import tgraph as tg
from tgraph.support.errors import is_internal


def raises(fn, specs, match, kind=tg.TGraphError):
    with pytest.raises(kind, match=match) as info:
        tg.trace(fn, specs)
    return info


def test_matmul_inner_dimensions():
    raises(lambda a, b: a @ b, [tg.f32[3, 4], tg.f32[5, 6]],
           r"matmul: inner dimensions differ: tensor<3x4xf32> @ tensor<5x6xf32> contracts 4 .* with 5 .*transpose")


def test_matmul_batch_dimensions():
    raises(lambda a, b: a @ b, [tg.f32[2, 3, 4], tg.f32[3, 4, 5]], r"matmul: batch dimensions .* do not broadcast")


def test_broadcasting_failure():
    raises(lambda a, b: a + b, [tg.f32[3, 4], tg.f32[5]],
           r"add: cannot broadcast tensor<3x4xf32> and tensor<5xf32>: shapes \(3, 4\) and \(5,\) .*reshape or transpose")


def test_bad_axis():
    raises(lambda x: tg.sum(x, axis=2), [tg.f32[3, 4]],
           r"sum: axis 2 is out of range for tensor<3x4xf32> \(rank 2\); use an axis in \[-2, 1\]")
    raises(lambda x: tg.softmax(x, axis=-3), [tg.f32[3, 4]], r"max: axis -3 is out of range")


def test_mixed_element_types():
    raises(lambda a, b: a * b, [tg.f32[3], tg.f64[3]],
           r"multiply: mixed element types f32 and f64; convert one side first, e.g. x.astype\(tgraph.f32\)",
           kind=tg.TGraphTypeError)
    raises(lambda a: a + np.ones(3), [tg.f32[3]], r"add: mixed element types f32 and f64", kind=TypeError)


def test_var_from_another_graph():
    leaked = []
    tg.trace(lambda x: leaked.append(x) or x, [tg.f32[3]])
    raises(lambda y: y + leaked[0], [tg.f32[3]], r"add: Vars from different graphs .* cannot be combined")
    with pytest.raises(tg.TGraphError, match=r"used after its trace finished"):
        tg.exp(leaked[0])


def test_function_returns_no_var():
    raises(lambda x: None, [tg.f32[3]], r"returned NoneType, not a tgraph Var", kind=TypeError)
    raises(lambda x: np.zeros(3), [tg.f32[3]], r"returned ndarray, not a tgraph Var")
    raises(lambda x: (), [tg.f32[3]], r"returned nothing; return a tgraph Var")


def test_other_misuse():
    raises(lambda x: x.reshape(5), [tg.f32[2, 3]], r"reshape: cannot reshape tensor<2x3xf32> \(6 elements\) to shape \(5,\)")
    raises(lambda x: x[::-1], [tg.f32[4]], r"only positive steps")
    raises(lambda x: x if x > 0 else -x, [tg.f32[()]], r"no truth value.*tgraph.where")
    raises(lambda x, w: tg.conv2d(x, w), [tg.f32[1, 3, 5, 5], tg.f32[2, 4, 3, 3]],
           r"tg.conv2d: input channels 3 must equal weight input channels 4 times groups 1")
    raises(lambda x: tg.exp(x), [tg.i32[3]], r"tg.exp: element type i32 is not supported")
    with pytest.raises(tg.TGraphError, match=r"element type f32 needs a shape"):
        tg.trace(lambda x: x, [tg.f32])


def test_traceback_ends_in_user_code():
    def model(x, w):
        return tg.relu(x @ w)  # the offending line

    with pytest.raises(tg.TGraphError) as info:
        tg.trace(model, [tg.f32[2, 3], tg.f32[4, 5]])
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].line == "return tg.relu(x @ w)  # the offending line"
    internal = [f for f in frames if is_internal(f.filename)]
    assert len(internal) == 1  # only the public entry point that re-raised


def test_interpreter_checks_inputs():
    g = tg.trace(lambda x: x * 2.0, [tg.f32[3]])
    with pytest.raises(tg.TGraphError, match=r"@main: expected 1 inputs, got 2"):
        g(np.ones(3), np.ones(3))
    with pytest.raises(tg.TGraphError, match=r"@main: input 0 must have shape \(3,\) \(tensor<3xf32>\), got shape \(4,\)"):
        g(np.ones(4))


def test_verifier_reports_the_op_location():
    text = """
    func.func @f(%a: tensor<3xf32>) -> tensor<4xf32> {
      %0 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<4xf32> loc("model.py":7:12)
      return %0 : tensor<4xf32>
    }"""
    with pytest.raises(tg.TGraphError, match=r"model.py\":7:12: 'tg.exp' op result type tensor<4xf32> does "
                                             r"not match the inferred type tensor<3xf32>"):
        tg.Graph.parse(text)


def test_differentiating_a_function_of_several_blocks_is_an_error():
    graph = tg.Graph.parse("""
    func.func @f(%x: tensor<f32>) -> tensor<f32> {
      cf.br ^bb1(%x : tensor<f32>)
    ^bb1(%y: tensor<f32>):
      %0 = "tg.exp"(%y) : (tensor<f32>) -> tensor<f32>
      return %0 : tensor<f32>
    }""")
    for transform in (tg.vjp, tg.jvp):
        with pytest.raises(tg.TGraphError, match="it has 2 blocks joined by 'cf.br'"):
            transform(graph)


def test_shapes_must_be_integral_and_fit_in_int64():
    with pytest.raises(tg.TGraphError, match=r"dimension 2.7 in shape \(2.7, 3\) is not an integer"):
        tg.f32[2.7, 3]
    with pytest.raises(tg.TGraphError, match="is not an integer"):
        tg.f32[True]
    with pytest.raises(tg.TGraphError, match="does not fit in a signed 64-bit integer"):
        tg.f32[2**32, 2**32]
    assert tg.f32[np.int64(3), 4].shape == (3, 4) and tg.f64[2**59].size == 2**59
    with pytest.raises(tg.TGraphError, match=r"'tg.exp' op tensor<3x9223372036854775807xf32>: .* does not fit"):
        tg.Graph.parse("""
        func.func @f(%x: tensor<3x9223372036854775807xf32>) -> tensor<3x9223372036854775807xf32> {
          %0 = "tg.exp"(%x) : (tensor<3x9223372036854775807xf32>) -> tensor<3x9223372036854775807xf32>
          return %0 : tensor<3x9223372036854775807xf32>
        }""")


def test_a_compile_failure_is_a_tgraph_error_naming_the_pass_and_the_op():
    from tgraph.backends.cpu import CpuExecutable

    graph = tg.trace(lambda x: tg.exp(x), [tg.f32[4]])
    # A pass that fails inside one pass manager run: found again pass by pass, and named.
    with pytest.raises(tg.TGraphError, match=r"the pass transform-interpreter\{entry-point=nope\} failed:\n"
                                             r"loc\(.*test_errors.py.*could not find a nested named sequence"):
        CpuExecutable(graph, pipeline="tg-to-linalg, transform-interpreter{entry-point=nope}")
    # An op no pass lowered: named with its location before LLVM translation (a bare RuntimeError before).
    with pytest.raises(tg.TGraphError, match=r"LLVM translation: 'tensor.empty' at loc\(.*test_errors.py"):
        CpuExecutable(graph, pipeline="tg-to-linalg, convert-func-to-llvm")


def test_one_rule_converts_arguments_in_the_interpreter_and_the_compiled_code():
    """same_kind casts and integers to floats; nothing lost silently: an integer that does not fit
    (2^32 + 1 used to wrap to 1), a finite float beyond the range (1e300 became inf) and ragged
    lists are TGraphErrors naming the argument."""
    graph = tg.trace(lambda i, x: (i * 2, x * 2.0), [tg.i32[2], tg.f32[2]])
    compiled = tg.compile_out(lambda i, x: (i * 2, x * 2.0), [tg.i32[2], tg.f32[2]])
    for run, label in ((graph, r"@main: input"), (compiled.forward, r"input")):
        i, x = run(np.array([3, -4], np.int64), np.array([0.1, 2], np.float64))
        assert i.dtype == np.int32 and list(i) == [6, -8] and x.dtype == np.float32 and x[0] == np.float32(0.1) * 2
        assert list(run([1, 2], [True, False])[1]) == [2.0, 0.0]  # lists; bools to floats
        with pytest.raises(tg.TGraphError, match=label + r" 0.* holds 4294967297, which does not fit in i32"):
            run(np.array([2**32 + 1, 0]), np.zeros(2))
        with pytest.raises(tg.TGraphError, match=label + r" 1.* holds 1e\+300, beyond the range of f32"):
            run(np.zeros(2, np.int32), np.array([1e300, 0.0]))
        with pytest.raises(tg.TGraphError, match=label + r" 0.* not a rectangular array|cannot be read as an array"):
            run([[1], [2, 3]], np.zeros(2))
        with pytest.raises(tg.TGraphTypeError, match=label + r" 0.* must be tensor<2xi32> \(int32\), got an array of float64"):
            run(np.zeros(2), np.zeros(2))
    assert np.isinf(graph(np.zeros(2, np.int32), np.array([np.inf, 0.0]))[1][0])  # inf itself is a value


def test_smaller_misuses_are_clear_errors(tmp_path):
    assert tg.trace(lambda x: x.transpose((1, 0)), [tg.f32[2, 3]]).output_specs == [tg.f32[3, 2]]  # numpy's tuple form
    with pytest.raises(tg.TGraphTypeError, match="np.sum cannot run on a traced Var.*use tgraph.sum"):
        tg.trace(lambda x: np.sum(x), [tg.f32[2, 3]])
    with pytest.raises(tg.TGraphTypeError, match="is not a numpy array.*tgraph.exp"):
        tg.trace(lambda x: np.exp(x), [tg.f32[2, 3]])
    with pytest.raises(tg.TGraphError, match=r"cannot be iterated over: index its rows explicitly"):
        tg.trace(lambda x: sum(row for row in x), [tg.f32[2, 3]])
    assert tg.trace(lambda x: np.ones(3, np.float32) + x, [tg.f32[3]]).output_specs == [tg.f32[3]]  # still a Var
    f = lambda a, b: tg.sum(a * b)  # noqa: E731
    assert tg.compile_scalar(f, [tg.f32[2]] * 2, wrt="b").wrt == (1,)  # parameter names work as wrt
    with pytest.raises(tg.TGraphError, match=r"wrt='z': no argument of that name; the arguments are 'a', 'b'"):
        tg.compile_scalar(f, [tg.f32[2]] * 2, wrt="z")
    with pytest.raises(tg.TGraphTypeError, match=r"wrt=1.5"):
        tg.compile_scalar(f, [tg.f32[2]] * 2, wrt=[1.5])
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(tg.TGraphError, match=r"dump_ir=.*cannot make that folder"):
        tg.compile_scalar(f, [tg.f32[2]] * 2, dump_ir=str(blocker / "ir"))
    with pytest.raises(tg.TGraphError, match=r"cannot gather from a table with 0 rows"):
        tg.trace(lambda t, i: tg.embedding(i, t), [tg.f32[0, 3], tg.i32[2]])
