"""How a tg op is defined: one `defop` call per op, kept in the op family's module.

A definition gives the op's operands, its typed attributes, a result-type rule (`infer`,
on TensorSpecs: it raises VerifyError on a violation) and its reference semantics
(`interpret`, on numpy arrays). From it come:
  - the IRDL-backed operation class (Pure, so CSE and DCE apply);
  - MLIR verification: `verify_invariants` re-runs `infer` on every verify, so shape rules
    hold for parsed modules and after every pass, with the op's location in the diagnostic;
  - the interpreter's rule and the builders' result types.
Derivative rules (`jvp`, `vjp`) and the batching rule (`batch`, what vmap emits) are attached beside
each definition through the helpers in ad.py and batching.py.
"""

import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from tgraph.support.dtypes import NUMPY_DTYPES, TensorSpec
from tgraph.support.mlir import BINDINGS, ext, ir


class TG(ext.Dialect, name="tg"):
    """The typed-graph dialect."""


# The bindings look for `<bindings>.dialects.<name>` to find a dialect's op classes, and try again
# (a full import search) on every tg op they wrap while it is missing. The classes register
# themselves here, so this module stands in for it.
sys.modules.setdefault(f"{BINDINGS}.dialects.tg", sys.modules[__name__])


class VerifyError(Exception):
    """A violated op invariant. The message says what is wrong, without the op's name."""


def require(condition, message):
    if not condition:
        raise VerifyError(message)


# ----------------------------------------------------------------------------- attributes
# Marker class naming a builtin attribute kind for IRDL constraints (`#builtin.dense_array`).
class _DenseArrayAttr(ir.Attribute):
    attr_name = "builtin.dense_array"


_TYPE_CACHE = {}  # (context, name) -> type: keyed by the context itself (an id could be reused)


def element_type(name):
    """The MLIR element type for 'f32', 'i1', ... in the current context."""
    key = (ir.Context.current, name)
    t = _TYPE_CACHE.get(key)
    if t is None:
        if len(_TYPE_CACHE) >= _SPECS_MAX:
            _TYPE_CACHE.clear()
        t = _TYPE_CACHE[key] = ir.Type.parse(name)
    return t


def tensor_type(spec):
    return ir.RankedTensorType.get(list(spec.shape), element_type(spec.dtype))


_SPECS = {}  # MLIR type -> TensorSpec: types are uniqued per context (equal and hashed by pointer)
_SPECS_MAX = 65536  # the entries keep their contexts alive: bound them (contexts are one per thread)


def spec_of(mlir_type):
    """TensorSpec of an MLIR type; VerifyError unless it is a static ranked tensor of a tg element type.
    The verifier asks this for every operand of every op: the answer is remembered per type."""
    spec = _SPECS.get(mlir_type)
    if spec is None:
        spec = _spec_of(mlir_type)
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.clear()
        _SPECS[mlir_type] = spec
    return spec


def _spec_of(mlir_type):
    require(isinstance(mlir_type, ir.RankedTensorType), f"expected a ranked tensor, got {mlir_type}")
    t = mlir_type
    require(t.has_static_shape, f"expected a static shape, got {mlir_type}")
    dtype = str(t.element_type)
    require(dtype in NUMPY_DTYPES, f"element type {dtype} is not one of {', '.join(NUMPY_DTYPES)}")
    try:
        return TensorSpec(tuple(t.shape), dtype)
    except ValueError as err:  # a TGraphError: e.g. more elements than int64 sizes can hold
        raise VerifyError(f"{mlir_type}: {err}") from None


@dataclass(frozen=True)
class AttrKind:
    """How a Python attribute value is stored as an MLIR attribute and read back."""

    name: str
    constraint: type  # for IRDL
    encode: Callable
    decode: Callable
    optional: bool = False  # may be absent (the op's rules then see None: its default meaning)


def _decode_dense(attr):
    attr = ir.DenseElementsAttr(attr)
    spec = spec_of(attr.type)
    if attr.is_splat:
        scalar = attr.get_splat_value()
        value = ir.BoolAttr(scalar).value if spec.dtype == "i1" else (
            ir.FloatAttr(scalar).value if spec.dtype.startswith(("f", "bf")) else ir.IntegerAttr(scalar).value)
        return np.full(spec.shape, value, dtype=spec.np_dtype)
    if spec.dtype == "bf16":
        return np.array(attr, copy=True).view(np.uint16).view(spec.np_dtype).reshape(spec.shape)
    return np.array(attr, copy=True).astype(spec.np_dtype, copy=False).reshape(spec.shape)


def _encode_dense(array):
    array = np.asarray(array)
    if array.dtype == NUMPY_DTYPES["bf16"]:
        raw = np.ascontiguousarray(array).view(np.uint16)
        return ir.DenseElementsAttr.get(raw, type=element_type("bf16"), shape=list(array.shape))
    # The shape is explicit: from a 0-d buffer the bindings would make a tensor of one element.
    return ir.DenseElementsAttr.get(np.ascontiguousarray(array).reshape(-1), shape=list(array.shape))


I64 = AttrKind("i64", ir.IntegerAttr,
               lambda v: ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(v)),
               lambda a: ir.IntegerAttr(a).value)
I64_ARRAY = AttrKind("i64 array", _DenseArrayAttr,
                     lambda v: ir.DenseI64ArrayAttr.get([int(x) for x in v]),
                     lambda a: tuple(ir.DenseI64ArrayAttr(a)))
F64 = AttrKind("f64", ir.FloatAttr, lambda v: ir.FloatAttr.get_f64(float(v)), lambda a: ir.FloatAttr(a).value)
STR = AttrKind("string", ir.StringAttr, lambda v: ir.StringAttr.get(str(v)), lambda a: ir.StringAttr(a).value)
ELEMENT_TYPE = AttrKind("element type", ir.TypeAttr,
                        lambda v: ir.TypeAttr.get(element_type(v)),
                        lambda a: str(ir.TypeAttr(a).value))
# Dense elements attributes have no registered name for IRDL to name: `any`, checked by `decode`.
DENSE = AttrKind("dense elements", Any, _encode_dense, _decode_dense)


def optional(kind):
    """`kind`, as an attribute an op may go without (absent: None to its rules, left out of the IR)."""
    return replace(kind, optional=True)


# ----------------------------------------------------------------------------- op definitions
@dataclass
class OpDef:
    name: str
    family: str
    operands: Sequence[str]
    infer: Callable  # (specs, **attrs) -> TensorSpec
    interpret: Callable  # (*arrays, **attrs) -> ndarray
    attrs: dict = field(default_factory=dict)  # name -> AttrKind
    doc: str = ""
    op_class: type = None
    jvp: Callable = None  # (em, primals, tangents, result, **attrs) -> tangent or None; see ad.py
    vjp: Callable = None  # (em, primals, active, ct, result, **attrs) -> a cotangent (or None) per operand
    differentiable: bool = True  # False: the result is a constant to differentiation (defzero)
    derivative_note: str = ""  # a convention at a kink or tie, for the op reference
    batch: Callable = None  # (em, operands, batched, size, **attrs) -> batched result; see batching.py
    # Linearity, for transposing user rules (custom_vjp in forward mode): the sets of operands the
    # op is linear in, the others held fixed (deflinear: all differentiable ones together;
    # defbilinear: each alone), and, when linearity depends on attributes, linear_when(**attrs).
    linear_in: tuple = ()
    linear_when: Callable = None
    # Lowering: an elementwise op gives scalar bodies (float_body on f16/bf16/f32/f64 values, f16
    # and bf16 computed in f32; int_body on integers), each `body(*scalars, **attrs) -> Value` in
    # arith/math; tg-to-linalg wraps them in one parallel linalg.generic. Other ops give `lowering`,
    # `rule(out spec, *operand Values, **attrs) -> Value` on tensors (see passes/lowering).
    float_body: Callable = None
    int_body: Callable = None
    lowering: Callable = None
    # math dialect op -> `expansion(ArithEmitter, *operands) -> Value`: what tg-approximate-math
    # emits for a math op of this op's body that LLVM has no vectorizable lowering for.
    approximations: dict = field(default_factory=dict)
    foldable: bool = False  # tg-simplify may fold it on splat constants (through `interpret`)
    public: str = ""  # the tgraph function that builds it, when generated from this record (ops.py)

    @property
    def full_name(self):
        return f"tg.{self.name}"

    def given(self, attrs):
        """attrs without the optional ones set to None (absent: the op's default meaning)."""
        return {k: v for k, v in attrs.items() if v is not None or k not in self.attrs or not self.attrs[k].optional}

    def infer_checked(self, specs, attrs):
        """`infer`, after the checks every op shares: operand count and attribute presence."""
        require(len(specs) == len(self.operands), f"expects {len(self.operands)} operands, got {len(specs)}")
        missing = [a for a, kind in self.attrs.items() if a not in attrs and not kind.optional]
        require(not missing, f"is missing attribute(s) {', '.join(missing)}")
        return self.infer(specs, **attrs)

    def decode_attrs(self, op):
        attrs = {}
        for name, kind in self.attrs.items():
            if name not in op.attributes:
                continue
            try:
                attrs[name] = kind.decode(op.attributes[name])
            except (ValueError, TypeError):
                raise VerifyError(f"attribute '{name}' must be a {kind.name}, got {op.attributes[name]}") from None
        return attrs

    def verify_op(self, op):
        """The checks MLIR's verifier runs (through verify_invariants) on every tg op."""
        specs = [spec_of(v.type) for v in op.operands]
        require(len(op.results) == 1, f"expects one result, got {len(op.results)}")
        result = spec_of(op.results[0].type)
        expected = self.infer_checked(specs, self.decode_attrs(op))
        require(result == expected, f"result type {result} does not match the inferred type {expected}")


OPS = {}  # name -> OpDef, in definition order


def operand_types_text(op):
    return ", ".join(str(v.type) for v in op.operands)


def _make_op_class(opdef):
    annotations = {name: ext.Operand[ir.RankedTensorType] for name in opdef.operands}
    # IRDL has no optional attributes: an optional one is left out of the IRDL definition (which
    # lets unlisted attributes through) and checked by verify_invariants alone.
    for name, kind in opdef.attrs.items():
        if not kind.optional:
            annotations[name] = kind.constraint
    annotations["result"] = ext.Result[ir.RankedTensorType]

    def verify_invariants(self):
        try:
            with self.operation.context:  # MLIR may verify outside any `with Context()`
                opdef.verify_op(self.operation)
        except VerifyError as err:
            self.location.emit_error(f"'{opdef.full_name}' op {err} (operand types: {operand_types_text(self)})")
            return False
        except Exception as err:  # never let a Python error escape into MLIR's verifier
            self.location.emit_error(f"'{opdef.full_name}' op failed to verify: {type(err).__name__}: {err}")
            return False
        return True

    namespace = {"__annotations__": annotations, "__doc__": opdef.doc, "verify_invariants": verify_invariants}
    class_name = "".join(p.capitalize() for p in opdef.name.split("_")) + "Op"
    return type(class_name, (TG.Operation,), namespace, name=opdef.name, traits=[ext.Pure])


def defop(name, family, operands, infer, interpret, attrs=None, doc="", **facts):
    """Define tg.`name`; `facts` are OpDef's other fields (float_body, lowering, foldable, public, ...)."""
    assert name not in OPS, f"tg.{name} defined twice"
    opdef = OpDef(name, family, tuple(operands), infer, interpret, dict(attrs or {}), doc, **facts)
    opdef.op_class = _make_op_class(opdef)
    OPS[name] = opdef
    return opdef


def create(name, operands, attrs, loc=None, specs=None):
    """Build a tg op at the current insertion point; returns (result Value, result spec).
    Raises VerifyError (before anything is built) if the operands and attributes break its rules.
    `specs`, when the caller knows them, saves reading the operand types back from MLIR."""
    opdef = OPS[name]
    attrs = opdef.given(attrs)
    specs = specs if specs is not None else [spec_of(v.type) for v in operands]
    result = opdef.infer_checked(specs, attrs)
    encoded = {k: opdef.attrs[k].encode(v) for k, v in attrs.items()}
    op = ir.Operation.create(opdef.full_name, results=[tensor_type(result)], operands=list(operands),
                             attributes=encoded, loc=loc)
    return op.results[0], result


# ----------------------------------------------------------------------------- shared rules
def same_as_first(float_only=False, ints=True):
    """infer: one or more operands of one type; the result has that type."""

    def infer(specs, **_):
        first = specs[0]
        for i, s in enumerate(specs[1:], 1):
            require(s == first, f"operands must have the same type, but operand 0 is {first} and operand {i} is {s}")
        allowed = ("f16", "bf16", "f32", "f64") + (("i32", "i64") if ints and not float_only else ())
        require(first.dtype in allowed, f"element type {first.dtype} is not supported (allowed: {', '.join(allowed)})")
        return first

    return infer


# What a contraction may sum its products in (its preferred_element_type), by operand type: the
# operand type itself or a wider type of its kind (f32 for bf16 operands: mixed precision).
WIDER_TYPES = {"f16": ("f16", "f32", "f64"), "bf16": ("bf16", "f32", "f64"), "f32": ("f32", "f64"), "f64": ("f64",),
               "i32": ("i32", "i64"), "i64": ("i64",)}


def preferred_result_type(operand_dtype, preferred):
    """The element type of a contraction's result: its operands' type, or `preferred` when given
    (as StableHLO's preferred_element_type: the products are summed, and returned, in that type)."""
    if preferred is None:
        return operand_dtype
    allowed = WIDER_TYPES.get(operand_dtype, (operand_dtype,))
    require(preferred in allowed, f"preferred_element_type {preferred} is not allowed for {operand_dtype} operands "
                                  f"(allowed: {', '.join(allowed)}: the operand type or a wider one of its kind)")
    return preferred


def in_preferred_type(preferred, *arrays):
    """The interpreter's operands of a contraction, converted to its preferred_element_type (f16 and
    bf16 operands arrive in f32 already, the type they are computed in)."""
    if preferred is None or preferred in ("f16", "bf16"):
        return arrays
    return tuple(a.astype(NUMPY_DTYPES[preferred], copy=False) for a in arrays)


def check_axes(axes, rank, what="axes"):
    require(len(set(axes)) == len(axes), f"{what} {list(axes)} repeat an axis")
    for a in axes:
        require(0 <= a < rank, f"{what} {list(axes)} out of range for rank {rank}")


def check_len(values, n, what):
    require(len(values) == n, f"{what} must have {n} entries, got {len(values)}")
