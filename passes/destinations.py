"""Destination-passing chains on tensors: the ops that write a value into their destination
operand (linalg ops' outs, vector.transfer_write's and tensor.insert_slice's destinations), followed
back from a value to the tensor.empty it starts at, and redirected into another tensor. Shared by
tg-loop-carries-in-place and tg-branch-results-in-place."""

from tgraph.support.mlir import ir, tensor


def destination(op, result_number):
    """The operand index whose tensor `op`'s result `result_number` is written into, or None."""
    name = op.name
    if name.startswith("linalg.") and name != "linalg.yield":
        return len(op.operands) - len(op.results) + result_number
    if name in ("vector.transfer_write", "tensor.insert_slice", "tensor.insert"):
        return 1
    return None


def inside(op, ancestor):
    """Whether `op` is nested in `ancestor`."""
    parent = op.parent
    while parent is not None:
        if parent == ancestor:
            return True
        parent = parent.parent
    return False


def write_into(value, target, op):
    """Follow `value`'s chain of destinations inside `op` (through reshapes); if it starts at a
    tensor.empty of the target's shape, make the chain start at `target` (reshaped back) instead.
    Returns the chain (the producer of `value` first), or None where it changed nothing."""
    chain, reshapes = [], []
    for _ in range(64):  # chains are short; the bound guards against a malformed cycle
        owner = value.owner
        if not hasattr(owner, "name") or not inside(owner, op):  # a block argument, or hoisted out
            return None
        if owner.name in _INVERSE:  # a reshape of the value: its inverse views the target
            chain.append(owner)
            reshapes.append(owner)
            value = owner.operands[0]
            continue
        index = destination(owner, value.result_number)
        if index is None:
            return None
        chain.append(owner)
        init = owner.operands[index]
        source = init.owner
        if hasattr(source, "name") and source.name == "tensor.empty":
            view = _viewed(target, reshapes, owner)
            if view.type != init.type:
                return None
            owner.operands[index] = view
            return chain
        value = init
    return None


def _viewed(target, reshapes, before):
    """`target` seen through the inverses of `reshapes` (outermost first), built before `before`."""
    value = target
    with ir.InsertionPoint(before), before.location:
        for reshape in reshapes:
            source_type = reshape.operands[0].type
            if reshape.name == "tensor.collapse_shape":
                value = tensor.ExpandShapeOp(source_type, value, reshape.attributes["reassociation"], [],
                                             list(ir.RankedTensorType(source_type).shape)).result
            else:
                value = tensor.CollapseShapeOp(source_type, value, reshape.attributes["reassociation"]).result
    return value


_INVERSE = ("tensor.collapse_shape", "tensor.expand_shape")
