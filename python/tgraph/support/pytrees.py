"""Pytrees: dicts, lists, tuples and namedtuples of leaves (Vars, arrays, specs), through optree,
the library PyTorch uses. None is an empty node, as in JAX. Errors name a leaf by its path
(`params['layers'][0]`)."""

import optree

from .errors import TGraphError


def path_text(path):
    return "".join(f"[{k!r}]" for k in path)


def flatten_with_paths(tree, none_is_leaf=False):
    """(paths, leaves, structure); with none_is_leaf, a None is a leaf (to report it)."""
    return optree.tree_flatten_with_path(tree, none_is_leaf=none_is_leaf)


def structure(tree):
    return optree.tree_structure(tree)


def unflatten(structure_, leaves_):
    return optree.tree_unflatten(structure_, list(leaves_))


def flatten_like(structure_, tree, what):
    """The leaves of `tree`, which must have `structure_`: a TGraphError naming both otherwise."""
    leaves_, found = optree.tree_flatten(tree)
    if found != structure_:
        raise TGraphError(f"{what} have the structure {found}, but the function was traced with {structure_}")
    return leaves_


def is_flat_sequence(structure_):
    """A leaf, or a tuple or list of leaves: what a function returning one Var or a few gives."""
    if structure_.is_leaf():
        return True
    return structure_.type in (tuple, list) and all(child.is_leaf() for child in structure_.children())


def is_structured_result(structure_):
    """Results given back in their structure: all but a single Var, and a tuple of Vars with
    several (which unflatten to the same tuple). A 1-tuple stays a 1-tuple, as in JAX."""
    if structure_ is None or structure_.is_leaf():
        return False
    return not (structure_.type is tuple and structure_.num_children > 1 and all(c.is_leaf() for c in structure_.children()))


tree_map = optree.tree_map
tree_flatten = optree.tree_flatten
tree_unflatten = optree.tree_unflatten
tree_leaves = optree.tree_leaves
