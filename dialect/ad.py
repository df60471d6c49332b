"""Derivative rules, written in tg ops so derivatives can be differentiated again.

A JVP rule maps primal operands, their tangents (None is a symbolic zero) and the primal
result to the result's tangent (or None). A VJP rule maps the result's cotangent `ct` to one
cotangent per operand, computing only those whose operand is `active` (the others are None).
The helpers make most rules one line, as JAX's `defjvp`/`deflinear`/`defbilinear` do; the rules
themselves sit beside each op's definition."""

from .core import OPS, create, spec_of


class Emitter:
    """Builds tg ops at the current insertion point: `em.add(x, y)`, `em.reduce_sum(x, axes=(0,))`."""

    def __init__(self, loc=None):
        self.loc = loc

    def __getattr__(self, name):
        if name not in OPS:
            raise AttributeError(name)
        return lambda *operands, **attrs: create(name, list(operands), attrs, loc=self.loc)[0]

    def full_like(self, value, constant):
        spec = spec_of(value.type)
        return self.splat(value=float(constant), shape=spec.shape, dtype=spec.dtype)

    def zeros_like(self, value):
        return self.full_like(value, 0.0)

    def scale(self, value, constant):
        return self.mul(value, self.full_like(value, constant))


def shape_of(value):
    return spec_of(value.type).shape


def dtype_of(value):
    return spec_of(value.type).dtype


def add_any(em, a, b):
    """Sum of two maybe-zero (None) values."""
    if a is None:
        return b
    if b is None:
        return a
    return em.add(a, b)


def defjvp(name, *rules):
    """One rule per operand: rule(em, tangent, *primals, result=..., **attrs) -> its contribution."""

    def jvp(em, primals, tangents, result, **attrs):
        total = None
        for rule, t in zip(rules, tangents):
            if t is not None and rule is not None:
                total = add_any(em, total, rule(em, t, *primals, result=result, **attrs))
        return total

    OPS[name].jvp = jvp


def defvjp(name, *rules):
    """One rule per operand: rule(em, ct, *primals, result=..., **attrs) -> that operand's cotangent.
    A None rule marks an operand that never has one (an index, a predicate)."""

    def vjp(em, primals, active, ct, result, **attrs):
        return [rule(em, ct, *primals, result=result, **attrs) if wanted and rule is not None else None
                for rule, wanted in zip(rules, active)]

    OPS[name].vjp = vjp


def defelementwise(name, *partials):
    """An elementwise op given its partial derivatives partial(em, *primals, result) (None: not
    differentiable in that operand): tangent = sum of partial_i * dx_i, cotangent_i = ct * partial_i."""
    defjvp(name, *[p and (lambda em, t, *xs, result, p=p: em.mul(p(em, *xs, result), t)) for p in partials])
    defvjp(name, *[p and (lambda em, ct, *xs, result, p=p: em.mul(ct, p(em, *xs, result))) for p in partials])


def deflinear(name, *transposes):
    """An op linear in its differentiable operands: the tangent is the op applied to their tangents
    (zeros where one has none); the cotangents come from one transpose rule per operand. An operand
    whose rule is None (indices) is not differentiated and keeps its primal value."""

    def jvp(em, primals, tangents, result, **attrs):
        if all(t is None for t, rule in zip(tangents, transposes) if rule is not None):
            return None
        operands = [p if rule is None else t if t is not None else em.zeros_like(p)
                    for p, t, rule in zip(primals, tangents, transposes)]
        return getattr(em, name)(*operands, **attrs)

    OPS[name].jvp = jvp
    OPS[name].linear_in = (tuple(i for i, rule in enumerate(transposes) if rule is not None),)
    defvjp(name, *transposes)


def defbilinear(name, lhs_transpose, rhs_transpose):
    """op(x, y) linear in each operand: d op = op(dx, y) + op(x, dy); each transpose rule gives
    its operand's cotangent from ct and the other operand. The tangent terms keep every attribute
    (a preferred_element_type too: tangents come out in the result's type); the transpose rules see
    ct in the operands' type and no preferred_element_type (see in_operand_type)."""
    defjvp(name,
           lambda em, t, x, y, result, **attrs: getattr(em, name)(t, y, **attrs),
           lambda em, t, x, y, result, **attrs: getattr(em, name)(x, t, **attrs))
    defvjp(name, in_operand_type(lhs_transpose), in_operand_type(rhs_transpose))
    OPS[name].linear_in = ((0,), (1,))


def in_operand_type(transpose):
    """A transpose rule of a bilinear op with a preferred_element_type: the cotangent, which arrives in
    that (wider) type, is converted to the operands' type, and the transposed op is emitted without
    the attribute, so an operand's cotangent has the operand's type (a bf16 weight gets a bf16
    gradient, summed in f32 and rounded, as PyTorch's autocast computes a bf16 matmul's backward).
    Without the attribute, or with the operands' own type, this is the rule itself."""

    def rule(em, ct, x, y, result, preferred_element_type=None, **attrs):
        operand_type = dtype_of(x)
        if dtype_of(ct) != operand_type:
            ct = em.cast(ct, dtype=operand_type)
        return transpose(em, ct, x, y, result=result, **attrs)

    return rule


def is_linear(opdef, linear, attrs):
    """Whether an op whose operands `linear` (a mask) depend linearly on some inputs, the others
    not at all, is itself linear in those inputs: its linear operands must be exactly one of the
    sets it is linear in (add(t, c) with a constant c is affine, not linear)."""
    positions = tuple(i for i, flag in enumerate(linear) if flag)
    return positions in opdef.linear_in and (opdef.linear_when is None or opdef.linear_when(**attrs))


def defzero(name):
    """Not differentiable (integer or boolean results, random numbers, stop_gradient): zero."""
    opdef = OPS[name]
    opdef.jvp = lambda em, primals, tangents, result, **attrs: None
    opdef.vjp = lambda em, primals, active, ct, result, **attrs: [None] * len(primals)
    opdef.differentiable = False


def convention(name, text):
    """Document a derivative convention (a kink, a tie) in the op reference."""
    OPS[name].derivative_note = text


def unpad(em, ct, shape, low, high, interior):
    """Transpose of pad(x, low, high, interior) for x of `shape`: restore what negative edges
    cropped (with zeros), then take every (interior + 1)-th element from the low edge."""
    rank = len(shape)
    if any(d == 0 for d in shape):
        return em.splat(value=0.0, shape=tuple(shape), dtype=dtype_of(ct))
    if min(low) < 0 or min(high) < 0:
        ct = em.pad(ct, low=tuple(max(-lo, 0) for lo in low), high=tuple(max(-hi, 0) for hi in high),
                    interior=(0,) * rank, value=0.0)
    start = tuple(max(lo, 0) for lo in low)
    limit = tuple(s + (d - 1) * (it + 1) + 1 for s, d, it in zip(start, shape, interior))
    stride = tuple(it + 1 for it in interior)
    if start == (0,) * rank and limit == tuple(shape_of(ct)) and stride == (1,) * rank:
        return ct
    return em.slice(ct, start=start, limit=limit, stride=stride)


def unslice(em, ct, shape, start, limit, stride):
    """Transpose of slice: the cotangent put back in place (pad with interior stride - 1), zeros elsewhere."""
    out = shape_of(ct)
    if any(n == 0 for n in out):
        return em.splat(value=0.0, shape=tuple(shape), dtype=dtype_of(ct))
    high = tuple(d - s - (n - 1) * st - 1 for d, s, n, st in zip(shape, start, out, stride))
    return em.pad(ct, low=tuple(start), high=high, interior=tuple(st - 1 for st in stride), value=0.0)
