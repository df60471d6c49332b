"""The one argument checker, for the interpreter and both backends: arguments against the specs
of a function's inputs (or tangents, or seeds), converted by tgraph's rule for arguments
(dtypes.convert_input), C-contiguous and aligned so that compiled code can read them in place."""

import numpy as np

from .dtypes import convert_input
from .errors import TGraphError


def argument_label(what, i, names=None):
    """How errors name argument `i` of `what` ("inputs"): "input 1 ('w')"."""
    return f"{what[:-1]} {i}" + (f" ('{names[i]}')" if names else "")


def conform_one(a, spec, where, label):
    """One argument conformed as `conform` does; `label` names it in errors."""
    array = convert_input(a, spec, where, label)
    if not (array.flags.c_contiguous and array.flags.aligned):  # else used in place, never written
        array = np.array(array, order="C")
    return array


def conform(arrays, specs, where, what, names=None, on_device=None):
    """Arrays matching `specs` exactly (dtype, shape, C-contiguous and aligned); a TGraphError
    names the call (`where`) and the argument (`names[i]` if given) otherwise. `on_device(array,
    spec, where, label)`, when given, takes arrays that already live on a device: what it returns
    (not None) is used as it is."""
    if len(arrays) != len(specs):
        raise TGraphError(f"{where}: expected {len(specs)} {what}, got {len(arrays)}")
    out = []
    for i, (a, spec) in enumerate(zip(arrays, specs)):
        label = argument_label(what, i, names)
        found = on_device(a, spec, where, label) if on_device is not None else None
        out.append(found if found is not None else conform_one(a, spec, where, label))
    return out
