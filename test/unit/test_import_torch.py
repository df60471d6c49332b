"""tg.from_torch: PyTorch modules (a Sequential convnet with batch norm, nn.TransformerEncoderLayer,
nn.GRU, a plain function) through torch.export and torch-mlir's FX importer to StableHLO, then
tg-import-stablehlo. The imported Graph in the interpreter and compiled against eager torch, and
tgraph's own gradient and JVP of the import (parameters and inputs) against torch autograd and
torch.func.jvp, in f64 to 1e-10."""

import dataclasses

import numpy as np
import pytest

import tgraph as tg

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir.fx")

RTOL, ATOL = 1e-10, 1e-12


@dataclasses.dataclass
class Case:
    id: str
    make: object    # () -> (module or function, example inputs)


class ConvNet(torch.nn.Sequential):
    def __init__(self):
        super().__init__(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                         torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3, stride=2, padding=1), torch.nn.Tanh(),
                         torch.nn.Flatten(), torch.nn.Linear(16, 3))


def convnet():
    m = ConvNet().double()
    bn = m[1]
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    return m.eval(), (torch.randn(2, 2, 8, 8, dtype=torch.float64),)


def transformer():
    m = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True).double()
    return m.eval(), (torch.randn(2, 5, 8, dtype=torch.float64),)


def gru():
    return torch.nn.GRU(3, 4, batch_first=True).double().eval(), (torch.randn(2, 6, 3, dtype=torch.float64),)


def function():
    def f(x, y):
        return torch.nn.functional.softplus(x @ y).sum(dim=0), torch.logsumexp(x, dim=1)
    return f, (torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64))


CASES = [Case("convnet_batchnorm", convnet), Case("transformer_encoder", transformer), Case("gru", gru),
         Case("function", function)]
_MADE = {}


def made(case):
    """(module, inputs, the imported Graph, its arguments as numpy arrays)."""
    if case.id not in _MADE:
        torch.manual_seed(0)
        module, inputs = case.make()
        graph = tg.from_torch(module, *inputs)
        params = [p.detach().numpy() for p in module.parameters()] if isinstance(module, torch.nn.Module) else []
        _MADE[case.id] = module, inputs, graph, params + [x.numpy() for x in inputs]
    return _MADE[case.id]


def outputs(result):
    return [r.detach().numpy() for r in (result if isinstance(result, tuple) else (result,))]


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interpreter_and_compiled_match_torch(case):
    module, inputs, graph, args = made(case)
    with torch.no_grad():
        want = outputs(module(*inputs))
    for got in (graph(*args), tg.jit(lambda *a: graph(*a))(*args)):
        for g, w in zip(got if isinstance(got, tuple) else (got,), want):
            close(g, w)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tgraph_gradient_of_the_import_matches_torch_autograd(case):
    module, inputs, graph, args = made(case)
    leaves = list(module.parameters()) if isinstance(module, torch.nn.Module) else []
    inputs = [x.clone().requires_grad_() for x in inputs]
    total = sum(torch.sin(o).sum() for o in (lambda r: r if isinstance(r, tuple) else (r,))(module(*inputs)))
    want = torch.autograd.grad(total, leaves + inputs)

    def loss(*a):
        result = graph(*a)
        return sum(tg.sum(tg.sin(r)) for r in (result if isinstance(result, tuple) else (result,)))
    got = tg.grad(loss, wrt=tuple(range(len(args))))(*args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        close(g, w.numpy())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tgraph_jvp_of_the_import_matches_torch_func_jvp(case):
    module, inputs, graph, args = made(case)
    params = dict(module.named_parameters()) if isinstance(module, torch.nn.Module) else {}
    names, n = list(params), len(params)

    def call(*leaves):
        if not names:
            return module(*leaves)
        return torch.func.functional_call(module, dict(zip(names, leaves[:n])), tuple(leaves[n:]))

    primals = tuple(p.detach() for p in params.values()) + tuple(inputs)
    rng = np.random.default_rng(3)
    tangents = tuple(torch.from_numpy(rng.standard_normal(tuple(p.shape))) for p in primals)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    # torch's fused encoder and flash-attention kernels have no forward AD: its plain math instead
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            _, want = torch.func.jvp(call, primals, tangents)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    _, got = tg.jvp(lambda *a: graph(*a), wrt=tuple(range(len(args))))(*args, *[t.numpy() for t in tangents])
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        close(g, w.detach().numpy())


def test_inputs_are_the_parameters_then_the_call_inputs():
    module, _, graph, _ = made(CASES[0])
    assert graph.input_names == [name for name, _ in module.named_parameters()] + ["input0"]
    assert "running_mean" not in " ".join(graph.input_names)  # buffers are constants
    assert "stablehlo" not in graph.ir()


def test_training_mode_with_batch_norm_is_refused():
    module, inputs = convnet()
    with pytest.raises(tg.TGraphError, match=r"the module is in training mode and has batch norm or dropout; call \.eval\(\)"):
        tg.from_torch(module.train(), *inputs)
