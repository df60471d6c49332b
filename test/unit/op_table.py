"""One table of cases over every tg op (as jax's lax_autodiff_test keeps one table of ops).

Each case: the tg op it exercises, a builder function, input specs, an input generator and an
independent numpy reference. The references are written here, not taken from the dialect's
interpreter rules, so checking one against the other means something."""

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import tgraph as tg
from tgraph import distributed as dist


@dataclass
class Case:
    op: str
    fn: Callable
    specs: list
    ref: Callable
    inputs: Callable = None  # rng -> list of arrays; default: standard normal / small ints
    tol: float = None
    name: str = ""
    differentiable: tuple = field(default=None)  # input indices that derivative checks may perturb

    id: str = ""

    def make_inputs(self, rng):
        if self.inputs is not None:
            return [np.asarray(a, dtype=s.np_dtype) for a, s in zip(self.inputs(rng), self.specs)]
        return [random_array(rng, s) for s in self.specs]


def random_array(rng, spec):
    if spec.dtype == "i1":
        return rng.random(spec.shape) < 0.5
    if spec.dtype in ("i32", "i64"):
        return rng.integers(-5, 6, spec.shape).astype(spec.np_dtype)
    return rng.standard_normal(spec.shape).astype(spec.np_dtype)


def positive(rng_shapes):
    return lambda rng: [rng.uniform(0.5, 2.0, s) for s in rng_shapes]


SHAPES = [(), (1,), (7,), (3, 1, 5), (2, 3)]
FLOATS = ["f32", "f64"]
CASES = []


def case(*args, **kwargs):
    c = Case(*args, **kwargs)
    shapes = "_".join("x".join(map(str, s.shape)) or "s" for s in c.specs)
    base = f"{c.op}-{c.name or shapes}-{c.specs[0].dtype}"
    taken = {x.id for x in CASES}
    c.id = base if base not in taken else next(f"{base}-{i}" for i in range(2, 99) if f"{base}-{i}" not in taken)
    CASES.append(c)


def spec(shape, dtype="f32"):
    return tg.TensorSpec(shape, dtype)


# ----------------------------------------------------------------------------- elementwise
def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)))


UNARY = {
    "neg": (tg.negative, np.negative, None),
    "abs": (tg.abs, np.abs, None),
    "exp": (tg.exp, np.exp, None),
    "log": (tg.log, np.log, "positive"),
    "sqrt": (tg.sqrt, np.sqrt, "positive"),
    "rsqrt": (tg.rsqrt, lambda x: 1 / np.sqrt(x), "positive"),
    "tanh": (tg.tanh, np.tanh, None),
    "sigmoid": (tg.sigmoid, _np_sigmoid, None),
    "relu": (tg.relu, lambda x: np.where(x > 0, x, 0), None),
    "sin": (tg.sin, np.sin, None),
    "cos": (tg.cos, np.cos, None),
    "softplus": (tg.softplus, lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0), None),
    "log1p": (tg.log1p, lambda x: np.log(np.float64(1) + x.astype(np.float64)), "positive"),
    "expm1": (tg.expm1, lambda x: np.exp(x.astype(np.float64)) - 1, None),
    "erf": (tg.erf, lambda x: np.array([math.erf(v) for v in np.ravel(x)]).reshape(np.shape(x)), None),
}
for (name, (fn, ref, domain)), shape, dtype in itertools.product(UNARY.items(), SHAPES, FLOATS):
    case(name, fn, [spec(shape, dtype)], ref, positive([shape]) if domain else None)
for name in ("neg", "abs", "relu"):
    case(name, UNARY[name][0], [spec((4, 3), "i32")], UNARY[name][1], name="int")
for dtype in ("f16", "bf16"):
    case("exp", tg.exp, [spec((5,), dtype)], np.exp, tol=1e-2, name="lowp")
    case("tanh", tg.tanh, [spec((2, 3), dtype)], np.tanh, tol=1e-2, name="lowp")

BINARY = {
    "add": (lambda x, y: x + y, np.add, None),
    "sub": (lambda x, y: x - y, np.subtract, None),
    "mul": (lambda x, y: x * y, np.multiply, None),
    "div": (lambda x, y: x / y, np.divide, "positive"),
    "pow": (lambda x, y: x ** y, np.power, "positive"),
    "maximum": (tg.maximum, np.maximum, None),
    "minimum": (tg.minimum, np.minimum, None),
}
for (name, (fn, ref, domain)), shape, dtype in itertools.product(BINARY.items(), SHAPES, FLOATS):
    case(name, fn, [spec(shape, dtype)] * 2, ref, positive([shape, shape]) if domain else None)
for name in ("add", "sub", "mul", "maximum", "minimum"):
    case(name, BINARY[name][0], [spec((3, 4), "i64")] * 2, BINARY[name][1], name="int")
# numpy broadcasting in the builders (tg.broadcast_in_dim inserted)
case("add", lambda x, y: x + y, [spec((3, 1, 5)), spec((4, 1))], np.add, name="broadcast")
case("mul", lambda x: x * 2.5, [spec((2, 3))], lambda x: x * 2.5, name="scalar")
case("sub", lambda x: 1.0 - x, [spec((2, 3))], lambda x: 1.0 - x, name="rscalar")

COMPARE = {"lt": tg.less, "le": tg.less_equal, "gt": tg.greater, "ge": tg.greater_equal, "eq": tg.equal,
           "ne": tg.not_equal}
NP_COMPARE = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "eq": np.equal,
              "ne": np.not_equal}
for direction, fn in COMPARE.items():
    case("compare", fn, [spec((4, 5), "i32")] * 2, NP_COMPARE[direction], name=direction)
    case("compare", fn, [spec((3,), "f64")] * 2, NP_COMPARE[direction], name=direction + "-f")
for shape in [(), (3, 4), (1, 5)]:
    case("select", lambda x, y: tg.where(x > y, x, y), [spec(shape)] * 2, lambda x, y: np.where(x > y, x, y))
case("select", lambda x: tg.where(x > 0, x, 0.0), [spec((2, 3), "f64")], lambda x: np.where(x > 0, x, 0.0),
     name="scalar-branch")

# ----------------------------------------------------------------------------- constants
case("constant", lambda x: x + np.arange(6).reshape(2, 3).astype(x.spec.np_dtype), [spec((2, 3))],
     lambda x: x + np.arange(6, dtype=np.float32).reshape(2, 3))
case("constant", lambda x: x * np.array([1.5, -2.0], dtype=np.float64), [spec((3, 2), "f64")],
     lambda x: x * np.array([1.5, -2.0]), name="row")
case("splat", lambda x: x + tg.full((2, 3), 4.0, x.dtype, like=x), [spec((2, 3))], lambda x: x + 4.0)
case("splat", lambda x: tg.ones_like(x) * x, [spec((5,), "f64")], lambda x: x, name="ones")
case("iota", lambda x: x + x.trace.emit("iota", [], shape=(2, 3), dtype=x.spec.dtype, dimension=1), [spec((2, 3))],
     lambda x: x + np.arange(3.0))
case("iota", lambda x: x * x.trace.emit("iota", [], shape=(4, 1, 3), dtype="i32", dimension=0), [spec((4, 1, 3), "i32")],
     lambda x: x * np.arange(4).reshape(4, 1, 1), name="int")
case("iota", lambda x: x - x.trace.emit("iota", [], shape=(5,), dtype=x.spec.dtype, dimension=0), [spec((5,), "f64")],
     lambda x: x - np.arange(5.0), name="f64")

# ----------------------------------------------------------------------------- shape
case("broadcast_in_dim", lambda x: tg.broadcast_to(x, (4, 3, 5)), [spec((3, 1))],
     lambda x: np.broadcast_to(x, (4, 3, 5)))
case("broadcast_in_dim", lambda x: tg.broadcast_to(x, (2, 3)), [spec(())], lambda x: np.broadcast_to(x, (2, 3)),
     name="scalar")
case("reshape", lambda x: tg.reshape(x, (3, -1)), [spec((2, 3, 2))], lambda x: x.reshape(3, -1))
case("reshape", lambda x: x.reshape(()), [spec((1, 1), "f64")], lambda x: x.reshape(()), name="to-scalar")
case("transpose", lambda x: x.T, [spec((2, 5))], lambda x: x.T)
case("transpose", lambda x: tg.transpose(x, (1, 2, 0)), [spec((2, 3, 4), "f64")],
     lambda x: np.transpose(x, (1, 2, 0)))
case("reverse", lambda x: tg.flip(x, (0, 2)), [spec((2, 3, 4))], lambda x: x[::-1, :, ::-1])
case("reverse", lambda x: tg.flip(x), [spec((5,), "f64")], lambda x: x[::-1], name="all")
case("slice", lambda x: x[1:3, ::2], [spec((4, 5))], lambda x: x[1:3, ::2])
case("slice", lambda x: x[..., 1, None], [spec((2, 3, 4), "f64")], lambda x: x[..., 1, None], name="index")
case("slice", lambda x: x[-1], [spec((3, 1))], lambda x: x[-1], name="last")
case("concat", lambda x, y: tg.concatenate([x, y], axis=1), [spec((2, 3)), spec((2, 1))],
     lambda x, y: np.concatenate([x, y], axis=1))
case("concat", lambda x, y, z: tg.concatenate([x, y, z]), [spec((1,), "f64"), spec((4,), "f64"), spec((2,), "f64")],
     lambda x, y, z: np.concatenate([x, y, z]), name="three")


def _np_pad(x, low, high, interior, value):
    out = np.full([lo + hi + d + max(d - 1, 0) * it for d, lo, hi, it in zip(x.shape, low, high, interior)], value,
                  x.dtype)
    for idx in np.ndindex(*x.shape):
        out[tuple(lo + i * (it + 1) for i, lo, it in zip(idx, low, interior))] = x[idx]
    return out


case("pad", lambda x: tg.pad(x, [(1, 2), (0, 1)], value=-1.0), [spec((2, 3))],
     lambda x: _np_pad(x, (1, 0), (2, 1), (0, 0), -1.0))
case("pad", lambda x: tg.pad(x, [(0, 1), (2, 0)], interior=(1, 2)), [spec((3, 2), "f64")],
     lambda x: _np_pad(x, (0, 2), (1, 0), (1, 2), 0.0), name="interior")
case("pad", lambda x: tg.pad(x, [(-1, 1)]), [spec((4,))], lambda x: np.concatenate([x[1:], [0]]), name="crop")

# ----------------------------------------------------------------------------- reductions
for shape, axis, keepdims in [((3, 4), None, False), ((3, 4), 1, True), ((2, 1, 5), (0, 2), False), ((7,), 0, False),
                              ((), None, False)]:
    for dtype in FLOATS:
        case("reduce_sum", lambda x, a=axis, k=keepdims: tg.sum(x, axis=a, keepdims=k), [spec(shape, dtype)],
             lambda x, a=axis, k=keepdims: np.sum(x, axis=a, keepdims=k))
        case("reduce_max", lambda x, a=axis, k=keepdims: tg.max(x, axis=a, keepdims=k), [spec(shape, dtype)],
             lambda x, a=axis, k=keepdims: np.max(x, axis=a, keepdims=k))
case("reduce_sum", lambda x: tg.mean(x, axis=-1), [spec((4, 6))], lambda x: np.mean(x, axis=-1), name="mean")
case("reduce_max", lambda x: tg.min(x, axis=0), [spec((4, 6))], lambda x: np.min(x, axis=0), name="min")
case("reduce_sum", lambda x: tg.sum(x, axis=1), [spec((3, 4), "i32")], lambda x: np.sum(x, axis=1), name="int")

# ----------------------------------------------------------------------------- contraction
for a, b in [((2, 3), (3, 4)), ((1, 5), (5, 1)), ((7,), (7,)), ((3, 4), (4,)), ((4,), (4, 2)), ((2, 3, 4), (2, 4, 5)),
             ((2, 3, 4), (4, 5)), ((1, 3, 4), (2, 4, 2))]:
    for dtype in FLOATS:
        case("dot_general", lambda x, y: x @ y, [spec(a, dtype), spec(b, dtype)], np.matmul, tol=1e-5)
case("dot_general", lambda x, y: tg.dot_general(x, y, contracting=((1,), (1,)), batch=((0,), (2,))),
     [spec((3, 4, 5), "f64"), spec((2, 4, 3), "f64")], lambda x, y: np.einsum("bkm,nkb->bmn", x, y), name="general")


def summed_wider(x):
    """A preferred_element_type wider than x's type (mixed precision): f32 for f16 and bf16, f64 for
    f32. The derivative checks trace every case in f64: there it is x's own type (the attribute left out)."""
    return {"f16": "f32", "bf16": "f32"}.get(x.spec.dtype, "f64")


def in_f64(ref):
    """A reference computed from the operands converted to f64 (exact products of f16/bf16 values)."""
    return lambda *xs: ref(*[np.asarray(x).astype(np.float64) for x in xs])


for a, b, dtype in [((3, 4), (4, 5), "bf16"), ((2, 3, 4), (2, 4, 5), "f16"), ((3, 4), (4, 5), "f32")]:
    case("dot_general", lambda x, y: tg.matmul(x, y, preferred_element_type=summed_wider(x)),
         [spec(a, dtype), spec(b, dtype)], in_f64(np.matmul), tol=1e-5 if dtype != "f32" else None, name="preferred")
case("dot_general", lambda x, y: tg.dot_general(x, y, contracting=((1,), (1,)), batch=((0,), (2,)),
                                                preferred_element_type=summed_wider(x)),
     [spec((3, 4, 5), "bf16"), spec((2, 4, 3), "bf16")], in_f64(lambda x, y: np.einsum("bkm,nkb->bmn", x, y)),
     tol=1e-5, name="general-preferred")


# ----------------------------------------------------------------------------- convolution
def np_conv2d(x, w, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """Direct loops: the plainest statement of NCHW x OIHW cross-correlation."""
    n, c, h, wd = x.shape
    o, i, kh, kw = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), padding[:2], padding[2:]])
    oh = (xp.shape[2] - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    ow = (xp.shape[3] - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow), np.float64)
    per_group = o // groups
    for b, oc, y, z in itertools.product(range(n), range(o), range(oh), range(ow)):
        g = oc // per_group
        rows = y * stride[0] + np.arange(kh) * dilation[0]
        cols = z * stride[1] + np.arange(kw) * dilation[1]
        patch = xp[b, g * i:(g + 1) * i][:, rows][:, :, cols]
        out[b, oc, y, z] = np.sum(patch * w[oc])
    return out


def np_pool(x, kernel, stride, padding, reduce, pad_value):
    xp = np.pad(x, [(0, 0), (0, 0), padding[:2], padding[2:]], constant_values=pad_value)
    oh = (xp.shape[2] - kernel[0]) // stride[0] + 1
    ow = (xp.shape[3] - kernel[1]) // stride[1] + 1
    out = np.zeros(x.shape[:2] + (oh, ow), np.float64)
    for y, z in itertools.product(range(oh), range(ow)):
        window = xp[:, :, y * stride[0]:y * stride[0] + kernel[0], z * stride[1]:z * stride[1] + kernel[1]]
        out[:, :, y, z] = reduce(window.reshape(*x.shape[:2], -1), axis=-1)
    return out


for xs, ws, kw in [((1, 1, 5, 5), (1, 1, 3, 3), {}),
                   ((2, 3, 7, 6), (4, 3, 3, 2), dict(stride=2, padding=1)),
                   ((1, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, dilation=(2, 1), padding=(2, 1))),
                   ((2, 2, 5, 4), (3, 2, 1, 1), dict(stride=(1, 2)))]:
    for dtype in FLOATS:
        case("conv2d", lambda x, w, kw=kw: tg.conv2d(x, w, **kw), [spec(xs, dtype), spec(ws, dtype)],
             lambda x, w, kw=kw: np_conv2d(x, w, tg.ops._pair(kw.get("stride", 1), "", ""),
                                           tg.ops._padding4(kw.get("padding", 0), ""),
                                           tg.ops._pair(kw.get("dilation", 1), "", ""), kw.get("groups", 1)),
             tol=1e-5)
case("conv2d", lambda x, w, b: tg.conv2d(x, w, b, padding=1), [spec((1, 2, 4, 4)), spec((3, 2, 3, 3)), spec((3,))],
     lambda x, w, b: np_conv2d(x, w, padding=(1, 1, 1, 1)) + b.reshape(1, 3, 1, 1), tol=1e-5, name="bias")
for dtype in ("bf16", "f32"):
    case("conv2d", lambda x, w, b: tg.conv2d(x, w, b, stride=2, padding=1, preferred_element_type=summed_wider(x)),
         [spec((2, 3, 7, 6), dtype), spec((4, 3, 3, 2), dtype), spec((4,), dtype)],
         in_f64(lambda x, w, b: np_conv2d(x, w, (2, 2), (1, 1, 1, 1)) + b.reshape(1, 4, 1, 1)),
         tol=1e-5 if dtype != "f32" else None, name="preferred")

def np_dilated_cropped(x, lhs_dilation, crop):
    """Zeros between input elements, then crop (top, bottom, left, right)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - 1) * lhs_dilation[0] + 1, (w - 1) * lhs_dilation[1] + 1), x.dtype)
    out[:, :, ::lhs_dilation[0], ::lhs_dilation[1]] = x
    return out[:, :, crop[0]:out.shape[2] - crop[1], crop[2]:out.shape[3] - crop[3]]


# The builders do not expose input dilation (the derivative rules use it): emit the op directly.
case("conv2d", lambda x, w: x.trace.emit("conv2d", [x, w], stride=(2, 1), padding=(-1, 0, 0, -2), lhs_dilation=(2, 3),
                                         rhs_dilation=(1, 2), groups=1),
     [spec((1, 2, 4, 5)), spec((3, 2, 2, 2))],
     lambda x, w: np_conv2d(np_dilated_cropped(x, (2, 3), (1, 0, 0, 2)), w, (2, 1), dilation=(1, 2)), tol=1e-5,
     name="input-dilation-crop")
for xs, kernel, stride, padding in [((1, 1, 4, 4), 2, None, 0), ((2, 3, 7, 5), 3, 2, 1), ((1, 2, 5, 6), (2, 3), (1, 2), 0)]:
    k2, s2 = tg.ops._pair(kernel, "", ""), tg.ops._pair(stride if stride else kernel, "", "")
    p4 = tg.ops._padding4(padding, "")
    for dtype in FLOATS:
        case("max_pool2d", lambda x, a=(kernel, stride, padding): tg.max_pool2d(x, *a), [spec(xs, dtype)],
             lambda x, a=(k2, s2, p4): np_pool(x, *a, np.max, -np.inf))
        case("avg_pool2d", lambda x, a=(kernel, stride, padding): tg.avg_pool2d(x, *a), [spec(xs, dtype)],
             lambda x, a=(k2, s2, p4): np_pool(x, *a, np.mean, 0.0))

# ----------------------------------------------------------------------------- indexing
case("gather", lambda table, idx: tg.embedding(idx, table), [spec((5, 3)), spec((2, 4), "i32")],
     lambda table, idx: np.take(table, idx, axis=0),
     inputs=lambda rng: [rng.standard_normal((5, 3)), rng.integers(0, 5, (2, 4))])
case("gather", lambda table, idx: tg.embedding(idx, table), [spec((4,), "f64"), spec((6,), "i64")],
     lambda table, idx: np.take(table, idx, axis=0), name="vector",
     inputs=lambda rng: [rng.standard_normal(4), rng.integers(0, 4, 6)])
case("gather", lambda table, idx: tg.embedding(idx, table), [spec((3, 2)), spec((4,), "i32")],
     lambda table, idx: table[np.clip(idx, 0, 2)], name="clamped",
     inputs=lambda rng: [rng.standard_normal((3, 2)), np.array([-1, 0, 2, 7])])



def _np_set_row(table, row, index):
    out = table.copy()
    out[min(max(int(index), 0), table.shape[0] - 1)] = row
    return out


case("set_row", tg.set_row, [spec((5, 3)), spec((3,)), spec((), "i32")], _np_set_row, differentiable=(0, 1),
     inputs=lambda rng: [rng.standard_normal((5, 3)), rng.standard_normal(3), np.int32(2)])
case("set_row", tg.set_row, [spec((4, 2, 2), "f64"), spec((2, 2), "f64"), spec((), "i64")], _np_set_row,
     name="clamped", differentiable=(0, 1),
     inputs=lambda rng: [rng.standard_normal((4, 2, 2)), rng.standard_normal((2, 2)), np.int64(9)])


def _np_scatter_add(idx, upd, rows):
    out = np.zeros((rows,) + upd.shape[idx.ndim:], upd.dtype)
    for pos in np.ndindex(*idx.shape):
        out[idx[pos]] += upd[pos]
    return out


case("scatter_add", lambda idx, upd: tg.scatter_add(idx, upd, rows=5), [spec((2, 3), "i32"), spec((2, 3, 4))],
     lambda idx, upd: _np_scatter_add(idx, upd, 5),
     inputs=lambda rng: [rng.integers(0, 5, (2, 3)), rng.standard_normal((2, 3, 4))])
case("scatter_add", lambda idx, upd: tg.scatter_add(idx, upd, rows=3), [spec((7,), "i64"), spec((7,), "f64")],
     lambda idx, upd: _np_scatter_add(idx, upd, 3), name="repeated",
     inputs=lambda rng: [rng.integers(0, 3, 7), rng.standard_normal(7)])

# ----------------------------------------------------------------------------- conversion
case("cast", lambda x: x.astype(tg.f64), [spec((2, 3))], lambda x: x.astype(np.float64))
case("cast", lambda x: x.astype(tg.i32), [spec((5,), "f64")], lambda x: np.trunc(x).astype(np.int32), name="to-int",
     inputs=lambda rng: [rng.uniform(-10, 10, 5)])
case("cast", lambda x: (x > 0).astype(tg.f32), [spec((3, 3))], lambda x: (x > 0).astype(np.float32), name="mask")
case("cast", lambda x: x.astype(tg.f16), [spec((4,))], lambda x: x.astype(np.float16), name="to-f16")
case("stop_gradient", tg.stop_gradient, [spec((2, 2))], lambda x: x)
case("stop_gradient", lambda x: tg.stop_gradient(x) * x, [spec((3,), "f64")], lambda x: x * x, name="mul")
case("optimization_barrier", tg.optimization_barrier, [spec((2, 3))], lambda x: x)
case("optimization_barrier", lambda x: tg.optimization_barrier(x) * x, [spec((3,), "f64")], lambda x: x * x, name="mul")

# ----------------------------------------------------------------------------- collectives
# On one process every collective is the identity; test_distributed.py runs them on several.
case("all_reduce", lambda x: dist.all_reduce(x), [spec((2, 3))], lambda x: x)
case("all_reduce", lambda x: dist.all_reduce(x, "mean") * x, [spec((3,), "f64")], lambda x: x * x, name="mean")
case("all_reduce", lambda x: dist.all_reduce(x, "max") * x, [spec((3,), "f64")], lambda x: x * x, name="max")
case("all_reduce", lambda x: dist.all_reduce(x, "min"), [spec((2, 2), "i32")], lambda x: x, name="min")
case("all_gather", lambda x: dist.all_gather(x, axis=1), [spec((2, 3))], lambda x: x)
case("reduce_scatter", lambda x: dist.reduce_scatter(x) * x, [spec((4,), "f64")], lambda x: x * x)
case("broadcast", lambda x: dist.broadcast(x), [spec((2, 2))], lambda x: x)
case("reduce_to_root", lambda x: x.trace.emit("reduce_to_root", [x], root=0, ranks=1), [spec((3,), "f64")],
     lambda x: x)
case("shard", lambda x: dist.shard(x, grid=(1,), axes=(0, -1)) * x, [spec((4, 2), "f64")], lambda x: x * x)

# ----------------------------------------------------------------------------- random
# The values are checked against an independent statement of the hash in test_ops.py; here they
# only flow through arithmetic whose reference uses the same numbers.
case("random_uniform", lambda k, x: x + tg.uniform(k, (3, 4), x.dtype), [spec((), "i32"), spec((3, 4))],
     lambda k, x: x + tg.dialect.random._uniform(k, (3, 4), tg.support.dtypes.from_numpy(x.dtype)))
case("bernoulli", lambda k, x: tg.where(tg.bernoulli(k, 0.3, (5,)), x, 0.0), [spec((), "i64"), spec((5,), "f64")],
     lambda k, x: np.where(tg.dialect.random.random_bits(k, (5,)) >> 8 < round(0.3 * 2 ** 24), x, 0.0))


def cases_for(op):
    return [c for c in CASES if c.op == op]
