"""Optimizers with optax's interface: a transformation is `init(params) -> state` and
`update(grads, state, params=None) -> (updates, state)`; `apply_updates(params, updates)` adds
them. Parameters, gradients and states are pytrees (states are namedtuples, as optax's).

Inside a traced function (Vars), the update is tg ops of the step being traced, so forward,
backward and update compile into one function. On arrays, `update` runs through `@jit` (compiled
once per signature) and `init` makes numpy zeros. Step counts are int32 scalars.

The formulas are optax's: `sgd` (momentum as optax.trace, nesterov too), `adam` (bias-corrected,
eps outside the square root), `adamw` (decoupled weight decay added to Adam's direction before
the learning rate), `clip_by_global_norm`, `chain`, and learning rates that are numbers or
schedules of the step count (`constant_schedule`, `linear_schedule`, `cosine_decay_schedule`,
`warmup_cosine_decay_schedule`)."""

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from . import ops
from .compiled import jit
from .graph import Var, current_trace
from .support import pytrees
from .support.errors import TGraphTypeError


class GradientTransformation(NamedTuple):
    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    pass


class TraceState(NamedTuple):
    trace: Any


class ScaleByAdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class ScaleByScheduleState(NamedTuple):
    count: Any


# ----------------------------------------------------------------------------- Vars or arrays
def _traced(*trees):
    return current_trace() is not None and any(isinstance(leaf, Var) for tree in trees
                                               for leaf in pytrees.tree_leaves(tree))


def _zeros_like(tree):
    return pytrees.tree_map(lambda x: ops.zeros_like(x) if isinstance(x, Var) else np.zeros_like(x), tree)


def _count(params):
    """A step count of 0: an int32 Var in the trace of `params`' Vars, else a numpy int32."""
    leaves = [leaf for leaf in pytrees.tree_leaves(params) if isinstance(leaf, Var)]
    if leaves:
        return ops.constant(np.zeros((), np.int32), leaves[0])
    return np.zeros((), np.int32)


def _check_state(state, kind, who):
    if not isinstance(state, kind):
        raise TGraphTypeError(f"{who} got a state of {type(state).__name__}, not {kind.__name__}: pass the state "
                              f"its init returned")


def _check_like(grads, reference, who):
    """grads must have the structure and leaf shapes of `reference` (a tree made from the params)."""
    paths, leaves, found = pytrees.flatten_with_paths(grads)
    want_leaves, want = pytrees.tree_leaves(reference), pytrees.structure(reference)
    if found != want:
        raise TGraphTypeError(f"{who}: the gradients have the structure {found}, but the parameters its state was "
                              f"made from have {want}")
    for path, g, r in zip(paths, leaves, want_leaves):
        if np.shape(g) != np.shape(r):
            raise TGraphTypeError(f"{who}: the gradient at {pytrees.path_text(path) or 'the root'} has shape "
                                  f"{tuple(np.shape(g))}, but its parameter has {tuple(np.shape(r))}")


def _float(count, like):
    """The count as a float of `like`'s dtype (a Var or array)."""
    return count.astype(like.dtype)


def _stateful(update):
    """update(grads, state, params) on Vars as written; on arrays through @jit."""
    compiled = jit(update)
    compiled.__name__ = getattr(update, "__name__", "update")

    def dispatch(grads, state, params=None):
        if _traced(grads, state, params):
            return update(grads, state, params)
        return compiled(grads, state, params)
    dispatch.__wrapped__ = update
    return dispatch


def _transformation(init, update):
    return GradientTransformation(init, _stateful(update))


# ----------------------------------------------------------------------------- schedules
def _math(x):
    """numpy for numbers and arrays, tgraph's ops for Vars."""
    return ops if isinstance(x, Var) else np


def constant_schedule(value):
    return lambda count: value


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """From init_value to end_value over transition_steps, after transition_begin steps."""
    if transition_steps <= 0:
        return constant_schedule(init_value)

    def schedule(count):
        m = _math(count)
        steps = m.clip(count - transition_begin, 0, transition_steps)
        return (init_value - end_value) * (1 - steps / transition_steps) + end_value
    return schedule


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """init_value * ((1 - alpha) * (0.5 (1 + cos(pi t / decay_steps)))^exponent + alpha), t capped."""
    if decay_steps <= 0:
        raise TGraphTypeError(f"cosine_decay_schedule: decay_steps must be positive, got {decay_steps}")

    def schedule(count):
        m = _math(count)
        steps = m.minimum(count, decay_steps)
        cosine = 0.5 * (1 + m.cos(math.pi * steps / decay_steps))
        return init_value * ((1 - alpha) * cosine ** exponent + alpha)
    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    """Linear warmup from init_value to peak_value over warmup_steps, then cosine decay to end_value
    at decay_steps (counted from the start, as optax's)."""
    warmup = linear_schedule(init_value, peak_value, warmup_steps)
    decay = cosine_decay_schedule(peak_value, max(decay_steps - warmup_steps, 1), alpha=end_value / peak_value)

    def schedule(count):
        return _math(count).where(count < warmup_steps, warmup(count), decay(count - warmup_steps))
    return schedule


# ----------------------------------------------------------------------------- transformations
def scale_by_learning_rate(learning_rate):
    """updates * -learning_rate; a schedule is called with the step count (its state)."""
    if not callable(learning_rate):
        return _transformation(lambda params: EmptyState(),
                               lambda grads, state, params=None: (
                                   pytrees.tree_map(lambda g: -learning_rate * g, grads), state))

    def update(grads, state, params=None):
        _check_state(state, ScaleByScheduleState, "a learning-rate schedule")
        leaves = pytrees.tree_leaves(grads)
        step = learning_rate(_float(state.count, leaves[0])) if leaves else 0.0
        return pytrees.tree_map(lambda g: -step * g, grads), ScaleByScheduleState(state.count + 1)
    return _transformation(lambda params: ScaleByScheduleState(_count(params)), update)


def trace(decay, nesterov=False):
    """Momentum (optax.trace): t = g + decay t; the update is t, or g + decay t with nesterov."""
    def update(grads, state, params=None):
        _check_state(state, TraceState, "momentum (optim.trace)")
        _check_like(grads, state.trace, "momentum (optim.trace)")
        new = pytrees.tree_map(lambda g, t: g + decay * t, grads, state.trace)
        out = pytrees.tree_map(lambda g, t: g + decay * t, grads, new) if nesterov else new
        return out, TraceState(new)
    return _transformation(lambda params: TraceState(_zeros_like(params)), update)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    def update(grads, state, params=None):
        _check_state(state, ScaleByAdamState, "adam")
        _check_like(grads, state.mu, "adam")
        mu = pytrees.tree_map(lambda g, m: b1 * m + (1 - b1) * g, grads, state.mu)
        nu = pytrees.tree_map(lambda g, v: b2 * v + (1 - b2) * g * g, grads, state.nu)
        count = state.count + 1

        def direction(m, v):
            t = _float(count, m)
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            return m_hat / (_math(v_hat).sqrt(v_hat + eps_root) + eps)
        return pytrees.tree_map(direction, mu, nu), ScaleByAdamState(count, mu, nu)
    return _transformation(lambda params: ScaleByAdamState(_count(params), _zeros_like(params), _zeros_like(params)),
                           update)


def add_decayed_weights(weight_decay):
    def update(grads, state, params=None):
        if params is None:
            raise TGraphTypeError("add_decayed_weights (adamw) needs params: call update(grads, state, params)")
        _check_like(grads, params, "add_decayed_weights (adamw)")
        return pytrees.tree_map(lambda g, p: g + weight_decay * p, grads, params), state
    return _transformation(lambda params: EmptyState(), update)


def global_norm(tree):
    """sqrt of the sum of squares of every leaf."""
    leaves = pytrees.tree_leaves(tree)
    total = sum((ops.sum(x * x) if isinstance(x, Var) else np.sum(np.square(x))) for x in leaves)
    return _math(total).sqrt(total)


def clip_by_global_norm(max_norm):
    """Scale the gradients by max_norm / their global norm where that norm exceeds max_norm."""
    def update(grads, state, params=None):
        norm = global_norm(grads)
        m = _math(norm)
        return pytrees.tree_map(lambda g: m.where(norm < max_norm, g, g / norm * max_norm), grads), state
    return _transformation(lambda params: EmptyState(), update)


def chain(*transformations):
    """Apply each transformation's update to the previous one's updates; the state is the tuple of
    their states."""
    for k, t in enumerate(transformations):
        if not isinstance(t, GradientTransformation):
            raise TGraphTypeError(f"chain: argument {k} is {type(t).__name__}, not a GradientTransformation")

    def init(params):
        return tuple(t.init(params) for t in transformations)

    def update(grads, state, params=None):
        if not isinstance(state, tuple) or len(state) != len(transformations):
            raise TGraphTypeError(f"chain of {len(transformations)} transformations got a state of "
                                  f"{type(state).__name__}; pass the state its init returned")
        states = []
        for t, s in zip(transformations, state):
            grads, s = t.update(grads, s, params)
            states.append(s)
        return grads, tuple(states)
    return _transformation(init, update)


# ----------------------------------------------------------------------------- optimizers
def sgd(learning_rate, momentum=0.0, nesterov=False):
    parts = ([trace(momentum, nesterov)] if momentum else []) + [scale_by_learning_rate(learning_rate)]
    return chain(*parts)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    return chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=1e-4):
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


def apply_updates(params, updates):
    """params + updates, leaf by leaf (Vars or arrays), keeping each parameter's dtype."""
    def add(p, u):
        if isinstance(p, Var) or isinstance(u, Var):
            return p + u
        return np.asarray(p + u, dtype=np.asarray(p).dtype)
    return pytrees.tree_map(add, params, updates)


# ----------------------------------------------------------------------------- mixed precision
def all_finite(tree):
    """Whether every element of every leaf is finite (no inf, no NaN): a boolean scalar Var in a
    traced function, a numpy bool on arrays."""
    leaves = pytrees.tree_leaves(tree)
    if not any(isinstance(x, Var) for x in leaves):
        return np.bool_(all(np.all(np.isfinite(x)) for x in leaves))
    # |x| < inf is false for inf and NaN alike: one comparison, a min over each leaf.
    flags = [ops.min(ops.where(ops.abs(x) < np.inf, 1.0, 0.0)) for x in leaves]
    total = flags[0]
    for flag in flags[1:]:
        total = ops.minimum(total, flag)
    return total > 0.5


def select_tree(condition, on_true, on_false):
    """Leaf by leaf, `on_true` where the boolean scalar `condition` holds, else `on_false` (two
    trees of one structure): how a train step skips an update whose gradients overflowed."""
    if not isinstance(condition, Var):
        return on_true if bool(condition) else on_false
    return pytrees.tree_map(lambda a, b: ops.where(condition, a, b), on_true, on_false)


class DynamicLossScaleState(NamedTuple):
    scale: Any       # f32 scalar: the loss is multiplied by it before differentiation
    good_steps: Any  # int32 scalar: steps with finite gradients since the scale last changed


class DynamicLossScale:
    """Dynamic loss scaling for f16 training, as PyTorch's GradScaler: the loss is multiplied by
    the scale (`scale`) so that small gradients survive f16's narrow range, and the gradients are
    divided by it (`unscale`) before the update. After a step whose gradients are not all finite
    (`all_finite`), which the train step skips (`select_tree`), `adjust` divides the scale by
    `factor` (not below `min_scale`); after `growth_interval` finite steps in a row it multiplies
    it by `factor`. The state is a DynamicLossScaleState, carried by the train step like an
    optimizer's."""

    def __init__(self, initial_scale=2.0 ** 15, growth_interval=2000, factor=2.0, min_scale=1.0):
        for name, value in (("initial_scale", initial_scale), ("factor", factor), ("min_scale", min_scale)):
            if not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
                raise TGraphTypeError(f"DynamicLossScale: {name} must be a positive number, got {value!r}")
        if not isinstance(growth_interval, int) or growth_interval < 1:
            raise TGraphTypeError(f"DynamicLossScale: growth_interval must be a positive int, got {growth_interval!r}")
        self.initial_scale, self.growth_interval = float(initial_scale), growth_interval
        self.factor, self.min_scale = float(factor), float(min_scale)

    def init(self):
        return DynamicLossScaleState(np.float32(self.initial_scale), np.int32(0))

    def scale(self, loss, state):
        _check_state(state, DynamicLossScaleState, "DynamicLossScale.scale")
        return loss * _as_dtype(state.scale, loss)

    def unscale(self, grads, state):
        _check_state(state, DynamicLossScaleState, "DynamicLossScale.unscale")
        return pytrees.tree_map(lambda g: g * _as_dtype(1.0 / state.scale, g), grads)

    def adjust(self, state, finite):
        """The next state: the scale lowered after a step that was not finite, raised after
        growth_interval finite ones."""
        _check_state(state, DynamicLossScaleState, "DynamicLossScale.adjust")
        m = ops if isinstance(finite, Var) or isinstance(state.scale, Var) else np
        grows = m.where(finite, state.good_steps + 1 >= self.growth_interval, finite)  # finite and due
        scale = m.where(finite, m.where(grows, state.scale * self.factor, state.scale),
                        m.maximum(state.scale / self.factor, self.min_scale))
        good_steps = m.where(grows, 0, m.where(finite, state.good_steps + 1, 0))
        if m is np:
            return DynamicLossScaleState(np.float32(scale), np.int32(good_steps))
        return DynamicLossScaleState(scale, good_steps)


def _as_dtype(value, like):
    """`value` (a scalar Var or number) in the dtype of `like` (a Var or array)."""
    if isinstance(value, Var):
        return value.astype(like.dtype)
    return np.asarray(value).astype(like.spec.np_dtype if isinstance(like, Var) else np.asarray(like).dtype)
