"""vmap of Graphs through the tg-batch pass, with JAX's axis conventions: an axis per argument
(an int, None for unbatched, or a pytree of them matching the argument), negative axes counted
from the end of the batched value, out_axes likewise for the results."""

import optree

from tgraph.passes.tg_batch import UNBATCHED, Batch

from .autodiff import run_passes
from .support import pytrees
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, TGraphTypeError


def _is_axis(a):
    return a is None or (isinstance(a, int) and not isinstance(a, bool))


def _leaf_axes(axes, tree, what):
    """One axis (or None) per leaf of `tree`, from an axis or a pytree prefix of axes."""
    if _is_axis(axes):
        return [axes] * len(pytrees.tree_leaves(tree))
    try:
        full = optree.tree_broadcast_prefix(axes, tree, none_is_leaf=True)
    except ValueError as err:
        raise TGraphError(f"{what}: the axes {axes!r} do not match the structure {pytrees.structure(tree)} ({err})") from None
    found = optree.tree_leaves(full, none_is_leaf=True)
    for a in found:
        if not _is_axis(a):
            raise TGraphTypeError(f"{what}: an axis must be an int or None, got {a!r}")
    return found


def _per_argument(in_axes, n):
    if _is_axis(in_axes):
        return [in_axes] * n
    if isinstance(in_axes, (tuple, list)) and len(in_axes) == n:
        return list(in_axes)
    if isinstance(in_axes, (tuple, list)):
        raise TGraphError(f"vmap: in_axes has {len(in_axes)} entries but the function takes {n} arguments")
    raise TGraphTypeError(f"vmap: in_axes must be an int, None, or a tuple with one entry per argument, got {in_axes!r}")


def _normalized(axis, rank, what):
    """A non-negative axis of a value of `rank` (the batched value's), or a TGraphError."""
    if axis is None:
        return None
    if not -rank <= axis < rank:
        raise TGraphError(f"vmap: {what} has axis {axis}, out of range for its batched rank {rank}")
    return axis % rank


def _argument_leaves(trees, in_axes, batched_ranks):
    """(leaf name, axis) for every leaf of the arguments (`trees`, one per argument)."""
    named = []
    for k, (tree, axes) in enumerate(zip(trees, _per_argument(in_axes, len(trees)))):
        paths, leaves, _ = pytrees.flatten_with_paths(tree)
        for path, leaf, axis in zip(paths, leaves, _leaf_axes(axes, tree, f"vmap: in_axes[{k}]")):
            name = f"argument {k}{pytrees.path_text(path)}"
            rank = len(leaf.shape) + (0 if batched_ranks else 1)
            named.append((name, leaf, _normalized(axis, rank, name)))
    return named


def unbatched_specs(spec_trees, in_axes, axis_size=None):
    """(per-lane spec trees, batch size) for a call's arguments' spec trees: each batched leaf
    without its batch axis; the size shared by every batched leaf (or axis_size)."""
    named = _argument_leaves(spec_trees, in_axes, batched_ranks=True)
    sizes = {}
    for name, spec, axis in named:
        if axis is not None:
            sizes.setdefault(spec.shape[axis], name)
    if len(sizes) > 1:
        found = ", ".join(f"{name} has {size}" for size, name in sizes.items())
        raise TGraphError(f"vmap: the batched arguments disagree on the batch size ({found} along their batch axes)")
    if not sizes and axis_size is None:
        raise TGraphError("vmap: no argument is batched (every in_axes entry is None); give axis_size=")
    size = next(iter(sizes)) if sizes else int(axis_size)
    if axis_size is not None and int(axis_size) != size:
        raise TGraphError(f"vmap: axis_size={axis_size} but the batched arguments have {size} lanes")
    lanes = iter([spec if axis is None else TensorSpec(spec.shape[:axis] + spec.shape[axis + 1:], spec.dtype)
                  for _, spec, axis in named])
    per_lane = [pytrees.tree_map(lambda _: next(lanes), tree) for tree in spec_trees]
    return per_lane, size


def vmap_graph(graph, in_axes=0, out_axes=0, axis_size=None):
    """The Graph computing `graph` (one lane's function) for every lane at once: arguments batched
    along in_axes, results along out_axes; axis_size is the number of lanes."""
    if axis_size is None:
        raise TGraphError(f"vmap of the Graph @{graph.name} needs axis_size= (its types are one lane's)")
    specs = graph.input_specs
    if graph.input_tree is not None:
        own = graph.input_tree.num_leaves
        trees = list(pytrees.unflatten(graph.input_tree, specs[:own]))
    else:
        own, trees = len(specs), list(specs)
    axes = [UNBATCHED if a is None else a for _, _, a in _argument_leaves(trees, in_axes, batched_ranks=False)]
    axes += [UNBATCHED] * (len(specs) - own)  # Vars captured from an enclosing trace: shared by every lane
    outs = graph.output_specs
    out_tree = pytrees.unflatten(graph.output_tree, outs) if graph.output_tree is not None else tuple(outs)
    leaf_out_axes = _leaf_axes(out_axes, out_tree, "vmap: out_axes")
    out = [UNBATCHED if a is None else _normalized(a, s.rank + 1, f"result {j}")
           for j, (a, s) in enumerate(zip(leaf_out_axes, outs))]
    name = f"{graph.name}_batched"
    result = run_passes(graph, [Batch(func=graph.name, in_axes=tuple(axes), out_axes=tuple(out),
                                      size=int(axis_size), out=name)], name, what="vmap of")
    result.input_tree, result.output_tree = graph.input_tree, graph.output_tree
    result.captures = list(graph.captures)
    return result
