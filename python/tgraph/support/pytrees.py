"""Pytrees: dicts, lists, tuples and namedtuples of leaves (Vars, arrays, specs), through optree,
the library PyTorch uses. None is an empty node, as in JAX. Errors name a leaf by its path
(`params['layers'][0]`)."""

import collections

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
    # Equal descriptions are the same structure: a namedtuple made again (an exported artifact's) matches.
    if found != structure_ and describe(found, strict=False) != describe(structure_, strict=False):
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


def describe(structure_, strict=True):
    """A JSON-ready description of a structure: "*" for a leaf, null for None, {"tuple": [...]},
    {"list": [...]}, {"dict": [[key, ...], ...]} (str or int keys), {"namedtuple": name,
    "fields": [...], "items": [...]}. Other nodes (custom classes, deques) are a TGraphError when
    `strict`, else described by their type's name."""
    kind = structure_.kind
    if kind == optree.PyTreeKind.LEAF:
        return "*"
    if kind == optree.PyTreeKind.NONE:
        return None
    children = [describe(c, strict) for c in structure_.children()]
    if kind == optree.PyTreeKind.TUPLE:
        return {"tuple": children}
    if kind == optree.PyTreeKind.LIST:
        return {"list": children}
    if kind == optree.PyTreeKind.DICT and all(isinstance(k, (str, int)) and not isinstance(k, bool)
                                              for k in structure_.entries()):
        return {"dict": [[k, c] for k, c in zip(structure_.entries(), children)]}
    if kind == optree.PyTreeKind.NAMEDTUPLE:
        return {"namedtuple": structure_.type.__name__, "fields": list(structure_.type._fields), "items": children}
    if strict:
        raise TGraphError(f"a {structure_.type.__name__} node ({structure_}) cannot be described in JSON; use dicts, "
                          "lists, tuples and namedtuples (with str or int dict keys)")
    return {"node": repr(structure_.type), "items": children}


def from_description(description):
    """The structure `describe` gave (namedtuples are made again, with their names and fields)."""
    def build(d):
        if d == "*":
            return 0
        if d is None:
            return None
        if "tuple" in d:
            return tuple(map(build, d["tuple"]))
        if "list" in d:
            return list(map(build, d["list"]))
        if "dict" in d:
            return {k: build(c) for k, c in d["dict"]}
        if "namedtuple" in d:
            return collections.namedtuple(d["namedtuple"], d["fields"])(*map(build, d["items"]))
        raise ValueError(f"not a structure description: {d!r}")
    return optree.tree_structure(build(description))
