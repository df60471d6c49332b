"""Derivative rules, written in tg ops so derivatives can be differentiated again.

A JVP rule maps primal operands, their tangents (None is a symbolic zero) and the primal
result to the result's tangent (or None). The helpers make most rules one line, as JAX's
`defjvp`/`deflinear` do; the rules themselves sit beside each op's definition."""

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


def defjvp_elementwise(name, derivative):
    """Unary elementwise op with f'(x) given as derivative(em, x, y): tangent = f'(x) * dx."""
    defjvp(name, lambda em, t, x, result: em.mul(derivative(em, x, result), t))


def deflinear(name):
    """An op linear in its (single differentiable) operand: the tangent is the op applied to it."""

    def jvp(em, primals, tangents, result, **attrs):
        if all(t is None for t in tangents):
            return None
        operands = [t if t is not None else em.zeros_like(p) for p, t in zip(primals, tangents)]
        return getattr(em, name)(*operands, **attrs)

    OPS[name].jvp = jvp


def defbilinear(name):
    """op(x, y) linear in each operand: d op = op(dx, y) + op(x, dy)."""
    defjvp(name,
           lambda em, t, x, y, result, **attrs: getattr(em, name)(t, y, **attrs),
           lambda em, t, x, y, result, **attrs: getattr(em, name)(x, t, **attrs))


def defzero(name):
    """Not differentiable (integer or boolean results, random numbers, stop_gradient): zero."""
    OPS[name].jvp = lambda em, primals, tangents, result, **attrs: None
