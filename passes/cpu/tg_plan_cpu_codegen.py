"""tg-plan-cpu-codegen: the CPU code generation strategies, as a transform-dialect script (run by
`tg-cpu-codegen`).

It looks at every linalg op on tensors, chooses a strategy by its kind and
shapes, tags the op (`tg.codegen = "opN"`, and `tg.planned`) and appends a transform script (a
nested module with `@__transform_main`, which finds all planned ops with one match) that applies
it; upstream's `transform-interpreter` runs the script and `tg-erase-transform-scripts` removes it.
`tgraph-opt --tg-plan-cpu-codegen` shows the script.

Strategies (f32 lanes `vector-width`, from the host: 16 with AVX-512):
  contraction (matmul, batch matmul, transposed forms): threads over rows (scf.forall), cache
    tiles [MC, NC, KC], register tiles [MR, NR] with the k loop innermost, vectorized to
    vector.contract, the accumulator hoisted out of the k loop, outer-product FMAs;
  elementwise (parallel loops only): threads over the outermost dimension when large, rows of
    the innermost dimension vectorized;
  reductions: partial sums in a vector accumulator along an innermost reduced dimension
    (tile_reduction_using_for), or whole vectors along an innermost kept dimension.
  row groups (softmax, layer norm, log-softmax): a 2-D elementwise op with the row reductions
    and elementwise ops of the same rows it reads, tiled together over blocks of rows
    (transform.structured.fuse, threads over rows first), so a block of rows passes through the
    whole chain while it is in cache; each op in it then vectorized as above.
  convolution: tg-conv-to-matmul makes im2col and a batched contraction (the strategy above); a
    direct NCHW x FCHW convolution with a narrow kernel becomes 1-D convolutions along output
    rows, vectorized.
Ops of other kinds (grouped convolutions, pooling, gathers, scatter loops) keep their loops."""

import dataclasses

from tgraph.support.mlir import ir
from tgraph.support.symbols import functions
from tgraph.support.target import CpuTarget

from ..base import ModulePass, collect_ops
from ..loop_nest import NAMED_KINDS, loop_nest
from ..pipeline import register_pass
from .common import PLANNED, TAG, threads_option, vector_width_option


def divisor_at_most(n, limit, multiple_of=1):
    """The largest divisor of n that is <= limit (preferring multiples of `multiple_of`), at least 1."""
    candidates = [d for d in range(1, min(n, limit) + 1) if n % d == 0]
    preferred = [d for d in candidates if d % multiple_of == 0]
    return max(preferred or candidates)


class Script:
    """Lines of the transform script; fresh SSA names for handles."""

    def __init__(self):
        self.lines, self.count = [], 0

    def fresh(self, stem):
        self.count += 1
        return f"%{stem}{self.count}"

    def emit(self, line):
        self.lines.append("    " + line)

    def match(self, tag):
        """The handle to the op tagged `tag`: defined by `split_planned` at the top of the script."""
        return f"%{tag}"

    def split_planned(self, tags):
        """Lines defining the handle of every planned op (`tags` in walk order, the order of the
        match's results) from one match, to put at the top of the script."""
        types = ", ".join(["!transform.any_op"] * len(tags))
        return ["    %planned = transform.structured.match attributes{" + PLANNED + "} in %root : "
                "(!transform.any_op) -> !transform.any_op",
                f"    {', '.join(map(self.match, tags))} = transform.split_handle %planned : "
                f"(!transform.any_op) -> ({types})"]

    def tile(self, handle, sizes, dims, forall=False):
        """tile_using_for (or _forall); returns (tiled op, its loop sizes, [loops]). A tile as
        large as its dimension is left untiled: a one-trip loop would be folded away under a live
        handle, which the transform interpreter reports as an error."""
        sizes = [0 if s == d else s for s, d in zip(sizes, dims)]
        tiled_dims = [s or d for s, d in zip(sizes, dims)]
        if not any(sizes):
            return handle, tiled_dims, []
        loops = 1 if forall else sum(1 for s in sizes if s)
        tiled, loop_names = self.fresh("t"), [self.fresh("l") for _ in range(loops)]
        op = "tile_using_forall" if forall else "tile_using_for"
        results = ", ".join(["!transform.any_op"] * (1 + loops))
        self.emit(f"{tiled}, {', '.join(loop_names)} = transform.structured.{op} {handle} tile_sizes "
                  f"[{', '.join(map(str, sizes))}] : (!transform.any_op) -> ({results})")
        return tiled, tiled_dims, loop_names

    def vectorize(self, handle):
        self.emit(f"transform.structured.vectorize {handle} : !transform.any_op")

    def functions(self):
        """A handle to the module's functions (for patterns applied to all of them)."""
        h = self.fresh("funcs")
        self.emit(f'{h} = transform.structured.match ops{{["func.func"]}} in %root : '
                  "(!transform.any_op) -> !transform.any_op")
        return h

    def fuse_into(self, producer, loop):
        """fuse_into_containing_op: (the producer's tile inside `loop`, the loop's new handle)."""
        fused, new_loop = self.fresh("f"), self.fresh("l")
        self.emit(f"{fused}, {new_loop} = transform.structured.fuse_into_containing_op {producer} into {loop} : "
                  "(!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)")
        return fused, new_loop


# Rows x vectors of the accumulator kept in registers, by vector width: AVX-512 has 32 vector
# registers (8 x 2 accumulators, 2 B vectors, a broadcast); AVX2 and SSE have 16, where 8 x 2
# spilled (measured with TGRAPH_VECTOR_WIDTH=8 here: the benchmark MLP's value_and_grad 14.9 ->
# 9.9 ms and matmul 1024^3 58 -> 72 GFLOP/s with 6 x 2).
REGISTER_TILES = {16: (8, 2), 8: (6, 2), 4: (6, 2)}
CACHE_TILE = (128, 256, 128)  # M, N, K of the blocks that stay in cache (measured: K = 128 beats 256)


def plan_contraction(script, handle, nest, vw, threads):
    """Register tile MR x NR (NR a multiple of the vector width), k innermost; the k loop is
    annotated so that the clean-up can hoist the accumulator out of it."""
    dims = list(nest.sizes)
    *batch, m, n, k = dims
    nb = len(batch)
    rows, vectors = REGISTER_TILES.get(vw, REGISTER_TILES[8])
    mr = divisor_at_most(m, rows)
    nr = divisor_at_most(n, vectors * vw, vw) if n >= vw else n
    if threads > 1 and 2 * m * n * k * max([1] + batch) >= 1 << 21:
        if m % (threads * mr) == 0:
            handle, dims, _ = script.tile(handle, [0] * nb + [m // threads, 0, 0], dims, forall=True)
        elif n % (threads * nr) == 0:
            handle, dims, _ = script.tile(handle, [0] * nb + [0, n // threads, 0], dims, forall=True)
    # Every tile divides the dimension it tiles (static shapes all the way down, for the vectorizer).
    m, n, k = dims[-3:]
    mc, nc, kc = divisor_at_most(m, CACHE_TILE[0], mr), divisor_at_most(n, CACHE_TILE[1], nr), divisor_at_most(k, CACHE_TILE[2])
    mr, nr = divisor_at_most(mc, mr), divisor_at_most(nc, nr, min(nr, vw))
    handle, dims, _ = script.tile(handle, [1] * nb + [mc, nc, kc], dims)
    handle, dims, _ = script.tile(handle, [1] * nb + [mr, nr, 0], dims)
    handle, dims, k_loop = script.tile(handle, [0] * nb + [0, 0, 1], dims)
    script.vectorize(handle)
    for loop in k_loop:
        script.emit(f'transform.annotate {loop} "tg.k_loop" : !transform.any_op')


def plan_elementwise(script, handle, nest, vw, threads):
    """Rows of the innermost dimension as vectors; threads over the outermost dimension."""
    dims = list(nest.sizes)
    total = 1
    for s in dims:
        total *= s
    if threads > 1 and total >= 1 << 16 and dims[0] % threads == 0:
        handle, dims, _ = script.tile(handle, [dims[0] // threads] + [0] * (len(dims) - 1), dims, forall=True)
    inner = dims[-1]
    width = divisor_at_most(inner, 4 * vw, vw) if inner > 4 * vw else inner
    handle, dims, _ = script.tile(handle, [1] * (len(dims) - 1) + [width], dims)
    script.vectorize(handle)


# Combiners whose identity the partial-reduction tiling knows (maximumf: -inf, NaN propagates).
COMBINERS = ("arith.addf", "arith.mulf", "arith.maximumf", "arith.minimumf")


def plan_reduction(script, handle, nest, vw, threads):
    """Innermost dimension reduced: partial sums in a vector; kept: vectors along it."""
    dims, kinds = list(nest.sizes), nest.kinds
    if kinds[-1] == "reduction":
        # Partial reductions need the combiner's identity.
        if len(nest.reductions) != 1 or dims[-1] < vw or dims[-1] % vw or nest.combiner not in COMBINERS:
            return False
        total = 1
        for d in dims:
            total *= d
        if threads > 1 and kinds[0] == "parallel" and total >= 1 << 16 and dims[0] % threads == 0:
            handle, dims, _ = script.tile(handle, [dims[0] // threads] + [0] * (len(dims) - 1), dims, forall=True)
        handle, dims, _ = script.tile(handle, [1 if k == "parallel" else 0 for k in kinds[:-1]] + [0], dims)
        parts = [script.fresh("red") for _ in range(4)]
        script.emit(f"{', '.join(parts)} = transform.structured.tile_reduction_using_for {handle} by tile_sizes = "
                    f"[{', '.join(['0'] * (len(dims) - 1) + [str(vw)])}] : (!transform.any_op) -> "
                    "(!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)")
        for h in parts[:3]:  # the accumulator's fill, the partial sums, their final combination
            script.vectorize(h)
        return True
    if nest.combiner not in COMBINERS:  # the vectorizer knows no other combining kinds (e.g. out - in)
        return False
    inner = dims[-1]
    width = divisor_at_most(inner, 4 * vw, vw) if inner > 4 * vw else inner
    handle, dims, _ = script.tile(handle, [1] * (len(dims) - 1) + [width], dims)
    script.vectorize(handle)
    return True


def plan_convolution(script, handle, op, vw, threads):
    """A direct conv2d (NCHW, FCHW; tg-to-linalg uses im2col unless the columns would be too
    large) with a small kernel width: tiles of one output row and one kernel row become 1-D
    convolutions (decompose), vectorized along the row. Returns False for wide kernels, whose
    1-D convolutions would unroll too far: they keep their loops."""
    (n, c, _, _), (f, _, kh, kw), (_, _, oh, ow) = (list(v.type.shape) for v in op.operands)
    if kw > 7:
        return False
    dims = [n, f, oh, ow, c, kh, kw]  # the loops of linalg.conv_2d_nchw_fchw
    if threads > 1 and n % threads == 0:
        handle, dims, _ = script.tile(handle, [n // threads] + [0] * 6, dims, forall=True)
    elif threads > 1 and f % threads == 0:
        handle, dims, _ = script.tile(handle, [0, f // threads] + [0] * 5, dims, forall=True)
    row = dims[3] if dims[3] <= 4 * vw else divisor_at_most(dims[3], 4 * vw)
    handle, dims, _ = script.tile(handle, [1, divisor_at_most(dims[1], 8), 1, row, divisor_at_most(dims[4], 64), 1, 0],
                                  dims)
    conv1d = script.fresh("conv1d")
    script.emit(f"{conv1d} = transform.structured.decompose {handle} : (!transform.any_op) -> !transform.any_op")
    script.vectorize(conv1d)
    return True


def is_contraction(nest):
    return (nest.inputs == 2 and len(nest.reductions) == 1 and nest.kinds[-1] == "reduction"
            and len(nest.kinds) in (3, 4) and set(nest.body) <= {"arith.mulf", "arith.addf", "linalg.yield"})


VECTOR_TYPES = ("f32", "f64", "i32", "i64")


def _element_type(value):
    return str(getattr(value.type, "element_type", ""))


EXTENSIONS = {"arith.extf", "arith.extsi"}


def _vector_types(op, nest):
    """Whether the op's element types vectorize. i1 vectors are bit-packed in LLVM while memrefs hold
    a byte per boolean: left to loops. A matmul or batch matmul of f16 or bf16 operands into f32
    (summed in f32; the result rounded after or not) reads them as vectors and extends them in
    registers. A generic reduction of extended operands (a contraction summing in a wider type,
    in a layout other than the named ops') keeps its loops: vectorized, it would become a
    contraction of mixed element types in a form that has no lowering to outer products."""
    if all(_element_type(v) in VECTOR_TYPES for v in op.operands):
        return op.name in NAMED_KINDS or not (nest.reductions and EXTENSIONS & set(nest.body))
    *inputs, output = op.operands
    return (op.name in NAMED_KINDS and all(_element_type(v) in ("f16", "bf16") for v in inputs)
            and _element_type(output) == "f32")


def _outputs_in_loop_order(op):
    """Whether every output of a multi-result op is written in loop order (identity map). Fusion can
    give one op a transposed output beside a plain one (x^T from the outer product x y^T); the
    vector patterns applied after vectorizing such an op never reach a fixed point (the compile hung)."""
    if len(op.results) < 2:
        return True
    maps = list(ir.ArrayAttr(op.attributes["indexing_maps"]))[len(op.operands) - len(op.results):]
    return all(ir.AffineMapAttr(m).value == ir.AffineMap.get_identity(ir.AffineMapAttr(m).value.n_dims) for m in maps)


def vectorizable(nest):
    # Gathers (tensor.extract at computed indices) and reversed or offset indexing: left to loops.
    return nest.plain_maps and "tensor.extract" not in nest.body and all(s > 0 for s in nest.sizes)


ROW_BLOCK = 8  # rows of a row group tiled together: 8 rows of 1024 f32 are 32 KB per array


def _output_map(op):
    return ir.AffineMapAttr(ir.ArrayAttr(op.attributes["indexing_maps"])[len(op.operands) - 1]).value


def _row_kind(op, nest):
    """'elementwise' or 'reduction' for a 2-D linalg.generic over [rows, columns] that a row group
    can hold (identity output map, or one value per row for a reduction), else None."""
    if nest is None or op.name != "linalg.generic" or len(nest.sizes) != 2 or len(op.results) != 1:
        return None
    results = [str(r) for r in _output_map(op).results]
    if nest.kinds == ["parallel", "parallel"] and results == ["d0", "d1"]:
        return "elementwise"
    if nest.kinds == ["parallel", "reduction"] and results == ["d0"] and nest.combiner in COMBINERS:
        return "reduction"
    return None


def row_groups(module, usable):
    """[(consumer, [its producers, latest first])]: a 2-D elementwise consumer and the row
    reductions and elementwise ops over the same [rows, columns] it reads through (transitively),
    when there is at least one reduction among them. `usable(op, nest)` screens each op; an op
    joins one group."""
    claimed, groups = set(), []
    for func in functions(module):
        ops = [op.operation for op in func.regions[0].blocks[0].operations if op.operation.name == "linalg.generic"]
        position = {op: i for i, op in enumerate(ops)}
        for consumer in reversed(ops):
            nest = loop_nest(consumer)
            if consumer in claimed or _row_kind(consumer, nest) != "elementwise" or not usable(consumer, nest):
                continue
            members, work = [], [consumer]
            while work:
                op = work.pop()
                for value in list(op.operands)[:len(op.operands) - len(op.results)]:
                    producer = value.owner.operation if isinstance(value, ir.OpResult) else None
                    if producer not in position or producer in claimed or producer in members or producer == consumer:
                        continue
                    inner = loop_nest(producer) if producer.name == "linalg.generic" else None
                    if _row_kind(producer, inner) and inner.sizes == nest.sizes and usable(producer, inner):
                        members.append(producer)
                        work.append(producer)
            # Only producers whose every user is in the group: one used outside too would be both
            # fused and kept (computed twice), and fuse_into_containing_op does not handle it reliably.
            inside = {consumer, *members}
            while True:
                outside = [m for m in members if any(use.owner.operation not in inside for use in m.results[0].uses)]
                if not outside:
                    break
                members = [m for m in members if m not in outside]
                inside = {consumer, *members}
            if any(_row_kind(m, loop_nest(m)) == "reduction" for m in members):
                claimed.update([consumer, *members])
                groups.append((consumer, sorted(members, key=position.get, reverse=True)))
    return groups


def _own_empty_output(op):
    """Give `op` a tensor.empty of its own as its output when it writes into a shared one (CSE
    merges equal tensor.empty ops): fused into a loop, a shared one would be one buffer that two
    ops write, which bufferization resolves by copying the whole result."""
    init = op.operands[len(op.operands) - 1]
    if isinstance(init, ir.OpResult) and init.owner.name == "tensor.empty" and len(list(init.uses)) > 1:
        op.operands[len(op.operands) - 1] = init.owner.operation.clone(ir.InsertionPoint(op)).result


def plan_row_group(script, tags, nests, vw, threads):
    """Tile the consumer (tags[0]) over row blocks (threads over rows first) and fuse the group's
    producers (tags[1:], latest first) into each loop, then vectorize every op of the group."""
    rows, columns = nests[0].sizes
    handle, per_thread, loops = script.match(tags[0]), rows, []
    if threads > 1 and rows % threads == 0 and rows * columns >= 1 << 16:
        per_thread = rows // threads
        handle, _, found = script.tile(handle, [per_thread, 0], [rows, columns], forall=True)
        loops += found
    block = divisor_at_most(per_thread, ROW_BLOCK)
    handle, _, found = script.tile(handle, [block, 0], [per_thread, columns])
    loops += found
    producers = {tag: script.match(tag) for tag in tags[1:]}
    for loop in loops:  # outermost first: each fusion moves the producer one loop further in
        for tag in tags[1:]:
            producers[tag], loop = script.fuse_into(producers[tag], loop)
    # A fused producer writes into a slice of its whole-size tensor.empty: an empty tensor of the
    # block's size instead, so its buffer is one block, not the whole result.
    script.emit(f"transform.apply_patterns to {script.functions()} "
                "{ transform.apply_patterns.tensor.fold_tensor_empty } : !transform.any_op")
    tiled = [handle, *producers.values()]
    for h, nest in zip(tiled, nests):
        nest = dataclasses.replace(nest, sizes=[block, columns])
        if nest.reductions:
            plan_reduction(script, h, nest, vw, 1)  # rows shorter than a vector keep their loops
        else:
            plan_elementwise(script, h, nest, vw, 1)


def tag_op(op, tag):
    """Mark `op` for the strategy planned under `tag` (see PLANNED)."""
    op.attributes[TAG] = ir.StringAttr.get(tag)
    op.attributes[PLANNED] = ir.UnitAttr.get()


@register_pass
@dataclasses.dataclass
class PlanCpuCodegen(ModulePass):
    name = "tg-plan-cpu-codegen"
    summary = "tag linalg ops with a codegen strategy and append the transform script that applies it"

    threads: int = threads_option()
    vector_width: int = vector_width_option()

    def run(self, module):
        target = CpuTarget.host(self.threads, self.vector_width)
        vw, threads = target.vector_width, target.threads
        script = Script()
        count = 0

        def usable(op, nest):
            return vectorizable(nest) and _vector_types(op, nest)

        for consumer, producers in row_groups(module, usable):
            for op in producers:  # an output of its own: one shared with the consumer becomes a copy
                _own_empty_output(op)
            tags = []
            for op in [consumer, *producers]:
                tags.append(f"op{count}")
                tag_op(op, tags[-1])
                count += 1
            plan_row_group(script, tags, [loop_nest(op) for op in [consumer, *producers]], vw, threads)

        def visit(op):
            nonlocal count
            if TAG in op.attributes:  # in a row group
                return ir.WalkResult.ADVANCE
            if op.name == "linalg.conv_2d_nchw_fchw" and all(
                    isinstance(v.type, ir.RankedTensorType) and v.type.has_static_shape for v in op.operands):
                tag, mark = f"op{count}", len(script.lines)
                if plan_convolution(script, script.match(tag), op, vw, threads):
                    tag_op(op, tag)
                    count += 1
                else:
                    del script.lines[mark:]
                return ir.WalkResult.ADVANCE
            nest = loop_nest(op) if op.name.startswith("linalg.") else None
            if nest is None or not vectorizable(nest) or not nest.sizes:
                return ir.WalkResult.ADVANCE
            if not _vector_types(op, nest) or not _outputs_in_loop_order(op):
                return ir.WalkResult.ADVANCE
            tag = f"op{count}"
            mark = len(script.lines)
            handle = script.match(tag)
            if is_contraction(nest):
                plan_contraction(script, handle, nest, vw, threads)
            elif not nest.reductions:
                plan_elementwise(script, handle, nest, vw, threads)
            elif not plan_reduction(script, handle, nest, vw, threads):
                del script.lines[mark:]
                return ir.WalkResult.ADVANCE
            tag_op(op, tag)
            count += 1
            return ir.WalkResult.ADVANCE

        module.walk(visit)
        lines = []
        if count:
            self.finish(script)
            planned = collect_ops(module, lambda op: PLANNED in op.attributes)
            lines = script.split_planned([ir.StringAttr(op.attributes[TAG]).value for op in planned])
        text = ("module attributes {transform.with_named_sequence} {\n"
                "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n"
                + "\n".join(lines + script.lines) + "\n    transform.yield\n  }\n}")
        body = module.regions[0].blocks[0]
        with ir.InsertionPoint(body):
            body.append(ir.Module.parse(text).operation.clone())

    @staticmethod
    def finish(script):
        """Clean-ups and vector lowerings shared by all strategies, once per script."""
        funcs = script.functions()
        # fold_arith_extension: a matmul of extended operands (bf16 products summed in f32) contracts
        # the narrow vectors, which its outer products extend as they read them (once per vector,
        # not per product). The only vectorized contractions of extended operands are the named
        # matmuls (see _vector_types), whose contractions lower to outer products in mixed types.
        script.emit(f"transform.apply_patterns to {funcs} {{ transform.apply_patterns.vector.cast_away_vector_leading_one_dim "
                    "transform.apply_patterns.vector.reduction_to_contract "
                    "transform.apply_patterns.vector.fold_arith_extension "
                    "transform.apply_patterns.vector.transfer_permutation_patterns "
                    "transform.apply_patterns.canonicalization } : !transform.any_op")
        script.emit(f"transform.apply_cse to {funcs} : !transform.any_op")
        # Keep each register tile of C in registers across its k loop (found again by annotation:
        # the canonicalization above may have rebuilt the loops).
        script.emit('%k_loops = transform.structured.match attributes{tg.k_loop} in %root : '
                    "(!transform.any_op) -> !transform.any_op")
        script.emit("transform.loop.hoist_loop_invariant_subsets %k_loops : !transform.any_op")
        script.emit(f"transform.apply_patterns to {funcs} {{ transform.apply_patterns.vector.lower_contraction "
                    "lowering_strategy = \"outerproduct\" "
                    "transform.apply_patterns.vector.reorder_multi_reduction_dims lowering_strategy = \"innerparallel\" "
                    "transform.apply_patterns.vector.multi_reduction_flattening lowering_strategy = \"innerparallel\" "
                    "transform.apply_patterns.vector.multi_reduction_unrolling lowering_strategy = \"innerparallel\" "
                    "transform.apply_patterns.canonicalization } : !transform.any_op")
