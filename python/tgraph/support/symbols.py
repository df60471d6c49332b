"""The functions of a module, found by name: what the API, the passes and the backends all need."""

from .mlir import ir


def _body(module):
    """The top-level block of an ir.Module, or of a builtin.module operation."""
    return module.body if isinstance(module, ir.Module) else module.regions[0].blocks[0]


def module_of(op):
    """The builtin.module an op (or OpView) is in."""
    op = op.operation
    while op.name != "builtin.module":
        op = op.parent
    return op


def name_of(op):
    return ir.StringAttr(op.attributes["sym_name"]).value


def functions(module):
    """The module's top-level func.func ops with a body, in order (declarations of external
    functions, such as the MPI library's, are left out: there is nothing in them to transform)."""
    return [op for op in _body(module).operations
            if op.operation.name == "func.func" and len(op.operation.regions[0].blocks) > 0]


def lookup(module, name):
    """The top-level func.func called `name`, or None."""
    return next((op for op in functions(module) if name_of(op) == name), None)


def copy_functions(source, destination, private_only=False):
    """Clone into `destination` the functions of `source` it does not have (by name; the private
    functions of custom rules have names unique to the process), at its end."""
    have = {name_of(op) for op in functions(destination)}
    body = _body(destination)
    for op in functions(source):
        if name_of(op) in have:
            continue
        private = "sym_visibility" in op.attributes and ir.StringAttr(op.attributes["sym_visibility"]).value == "private"
        if private or not private_only:
            op.operation.clone(ip=ir.InsertionPoint(body))
