"""`tgraph.export(compiled, directory)`: a compiled object's entry points as a self-contained
artifact that runs without tgraph's compiler, MLIR or Python:

    lib<name>.so    every entry point, compiled for this CPU in one module (plus plain C
                    functions over it: pointers to C-contiguous arrays, outputs written into
                    the caller's arrays)
    <name>.h        those C functions, with each argument's shape and dtype (comments, #defines)
    manifest.json   entry points and their specs, the argument and result pytrees, the tgraph and
                    MLIR versions, the CPU (architecture, model, the instruction-set extensions
                    the code may use), threads

`tgraph.runtime.load(directory)` gives the entry points back in Python (without the bindings)."""

import importlib.metadata
import json
import os
import platform
import re
import subprocess
import tempfile

from tgraph import dialect

from . import __version__
from .backends import cache
from .backends.cpu import CpuExecutable, host_target
from .backends.common import refuse_collectives
from .compiled import Compiled, jit, writable_dir
from .runtime import FORMAT, MANIFEST, VERSION
from .support import pytrees
from .support.dtypes import is_float
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.mlir import BINDINGS, ir
from .support.symbols import functions, name_of
from .support.target import host_cpu, required_features


C_TYPES = {"f32": "float", "f64": "double", "i32": "int32_t", "i64": "int64_t", "i1": "bool",
           "f16": "uint16_t", "bf16": "uint16_t"}  # f16 and bf16 as their bits


@user_facing
def export(compiled, directory, *, name=None, entries=None, threads=None, example_args=None):
    """Write `compiled`'s entry points (all, or `entries`) to `directory` as a shared library, a C
    header and a JSON manifest; returns the manifest (a dict).

    `compiled`: a CompiledScalar or CompiledOut for the CPU, or a `@tgraph.jit` function with
    `example_args` (arrays whose shapes and dtypes choose its compilation). `name`: the C prefix
    (`<name>_forward`, lib<name>.so; default: the function's name). `threads`: for the parallel
    loops (default: as `tgraph.jit` would use; above 1 the loading program needs an OpenMP
    runtime). Files of an earlier export of the same name are replaced; others are never touched."""
    compiled = _compiled_object(compiled, example_args)
    name = _c_name(name if name is not None else compiled.graph.name, "name")
    entries = _entries(compiled, entries)
    target = host_target(threads)
    paths = {"library": f"lib{name}.so", "header": f"{name}.h"}
    directory = _prepare_directory(directory, [MANIFEST, *paths.values()])
    linker = cache.linker()
    if linker is None:
        raise TGraphError("export needs a C compiler driver (cc, gcc or clang) on the PATH to link the library")

    layouts = {entry: _layout(compiled, entry) for entry in entries}
    symbols = {entry: f"tgraph_{name}_{entry}" for entry in entries}
    donated = [list(pair) for pair in compiled.donate] if "forward" in entries else []
    module = _merged_module(compiled, entries, symbols)
    refuse_collectives(module, "an exported library (it would call this process's MPI)")
    first = "forward" if "forward" in entries else entries[0]  # the function donation applies to
    exe = CpuExecutable(module, symbols[first], threads=target.threads, symbol_prefix="",
                        donate=compiled.donate if donated else ())
    for entry in entries:
        if exe.symbol(symbols[entry]) is None:
            raise TGraphError(f"export: the compiled library lacks @{symbols[entry]} (a lowering gap: please report it)")

    model, _ = host_cpu()
    manifest = {
        "format": FORMAT, "version": VERSION, "name": name, "function": compiled.graph.name,
        "kind": "scalar" if "value_and_grad" in compiled.ENTRY_POINTS else "out",
        "library": paths["library"], "header": paths["header"],
        "tgraph_version": __version__,
        "mlir": {"bindings": BINDINGS, "package": _bindings_package()},
        "target": {"machine": platform.machine().lower(), "cpu": model,
                   "features": required_features(target.vector_width),
                   "vector_width": target.vector_width, "threads": target.threads,
                   "openmp": target.threads > 1},
        "arg_names": list(compiled.arg_names), "leaf_names": list(compiled._signature.leaf_names),
        "wrt": list(compiled.wrt),
        "input_tree": _tree(compiled.graph.input_tree), "output_tree": _tree(compiled.graph.output_tree),
        "inputs": [[list(s.shape), s.dtype] for s in compiled.input_specs],
        "outputs": [[list(s.shape), s.dtype] for s in compiled.output_specs],
        "allocations": list(exe.allocations),
        "entries": {entry: {"symbol": symbols[entry], "c_function": f"{name}_{entry}",
                            "inputs": layouts[entry][0], "outputs": layouts[entry][1],
                            "donated": donated if entry == "forward" else []}
                    for entry in entries},
    }
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as scratch:
        wrappers = os.path.join(scratch, f"{name}_c_api.c")
        header = os.path.join(scratch, paths["header"])
        with open(header, "w") as f:
            f.write(c_header(manifest))
        with open(wrappers, "w") as f:
            f.write(_c_wrappers(manifest))
        library = os.path.join(scratch, paths["library"])
        try:
            exe.save(library, linker, extra_args=[wrappers, f"-I{scratch}"])
        except subprocess.CalledProcessError as err:
            raise TGraphError(f"export: linking lib{name}.so failed:\n{err.stderr.decode(errors='replace')}") from None
        with open(os.path.join(scratch, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=1)
        # The library first, the manifest last: a directory with a manifest has the files it names.
        for file in (paths["library"], paths["header"], MANIFEST):
            os.replace(os.path.join(scratch, file), os.path.join(directory, file))
    return manifest


def _compiled_object(compiled, example_args):
    if isinstance(compiled, jit):
        if example_args is None:
            raise TGraphError("export of a @tgraph.jit function needs example_args=(...): the arguments whose "
                              "shapes and dtypes choose the compilation to export")
        compiled = compiled.compiled(*example_args)
    elif example_args is not None:
        raise TGraphError("export: example_args is only for a @tgraph.jit function")
    if not isinstance(compiled, Compiled):
        raise TGraphTypeError(f"export needs a CompiledScalar, a CompiledOut or a @tgraph.jit function, "
                              f"got {type(compiled).__name__}")
    if compiled.target != "cpu":
        raise TGraphError(f"export writes CPU code; this object targets {compiled.target!r}. Compile it with "
                          "target='cpu' to export it")
    return compiled


def _entries(compiled, entries):
    if entries is None:
        return list(compiled.ENTRY_POINTS)
    entries = [entries] if isinstance(entries, str) else list(entries)
    for entry in entries:
        if entry not in compiled.ENTRY_POINTS:
            raise TGraphError(f"export: unknown entry point {entry!r}; this object has {', '.join(compiled.ENTRY_POINTS)}")
    if not entries:
        raise TGraphError("export: entries=[] leaves nothing to export")
    return list(dict.fromkeys(entries))


def _c_name(text, what):
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) or text in _C_KEYWORDS:
        raise TGraphError(f"export: {what}={text!r} must be a C identifier (letters, digits and _, not first a digit)")
    return text


def _prepare_directory(directory, files):
    """The directory (made if missing). Files of an earlier export are replaced; any other file
    with one of those names is refused, not overwritten."""
    directory = writable_dir(directory, "export: ")
    present = [f for f in files if os.path.lexists(os.path.join(directory, f))]
    if present and not _earlier_export(os.path.join(directory, MANIFEST)):
        raise TGraphError(f"export: {directory!r} already has {', '.join(present)}, not from a tgraph export; "
                          "choose another directory, or move those files away")
    return directory


def _earlier_export(path):
    try:
        with open(path) as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _tree(structure):
    return None if structure is None else pytrees.describe(structure)


def _bindings_package():
    for package in (("torch-mlir", "mlir") if BINDINGS == "torch_mlir" else ("mlir", "mlir-python-bindings")):
        try:
            return f"{package} {importlib.metadata.version(package)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return BINDINGS


# ----------------------------------------------------------------------------- the module
def _merged_module(compiled, entries, symbols):
    """One module with every entry's function, named `symbols[entry]`; the private functions each
    calls (custom rules, checkpoints) are renamed per entry, so two entries' never collide."""
    with dialect.context():
        merged = ir.Module.parse("module {}")
        for entry in entries:
            graph = compiled._entry_graph(entry)
            module = ir.Module.parse(graph.module.operation.get_asm(enable_debug_info=True))
            renames = {name_of(op): (symbols[entry] if name_of(op) == graph.name
                                     else f"{symbols[entry]}__{_identifier(name_of(op))}")
                       for op in functions(module)}
            for old, new in renames.items():
                ir.SymbolTable.replace_all_symbol_uses(old, new, module.operation)
            for op in functions(module):
                ir.SymbolTable.set_symbol_name(op, renames[name_of(op)])
            for op in functions(module):
                merged.body.append(op.operation.clone())
        merged.operation.verify()
        return merged


def _identifier(text):
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


# ----------------------------------------------------------------------------- C API
_C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
    volatile while bool true false int32_t int64_t uint16_t""".split())


def _layout(compiled, entry):
    """([{name, shape, dtype}] inputs, [...] outputs) of an entry's function, named for C."""
    signature = compiled._signature
    ins = list(signature.leaf_names)
    outs = _output_names(compiled)
    floats = [outs[i] for i, s in enumerate(compiled.output_specs) if is_float(s.dtype)]
    wrt = [ins[i] for i in compiled.wrt]
    names = {
        "forward": (ins, outs),
        "jvp": (ins + ["d_" + n for n in wrt], outs + ["d_" + n for n in floats]),
        "vjp": (ins + ["seed_" + n for n in floats], ["grad_" + n for n in wrt]),
        "grad": (ins, ["grad_" + n for n in wrt]),
        "value_and_grad": (ins, outs + ["grad_" + n for n in wrt]),
    }[entry]
    graph = compiled._entry_graph(entry)
    specs = (graph.input_specs, graph.output_specs)
    donated = dict(compiled.donate) if entry == "forward" else {}
    kept = [k for k in range(len(specs[1])) if k not in donated.values()]
    assert all(len(n) == len(s) for n, s in zip(names, specs)), (entry, names, specs)
    inputs = _c_arguments(names[0], specs[0])
    outputs = _c_arguments(names[1], specs[1])
    for i, k in donated.items():
        inputs[i]["donated_to"] = outputs[k]["name"]
    return inputs, [outputs[k] for k in kept]


def _output_names(compiled):
    n = len(compiled.output_specs)
    tree = compiled.graph.output_tree
    if tree is not None and pytrees.is_structured_result(tree):
        paths, _, _ = pytrees.flatten_with_paths(pytrees.unflatten(tree, range(n)))
        return ["out" + pytrees.path_text(p) for p in paths]
    return ["value"] if n == 1 and "value_and_grad" in compiled.ENTRY_POINTS else \
        ["out"] if n == 1 else [f"out{i}" for i in range(n)]


def _c_arguments(names, specs):
    """Arguments named by C identifiers made from `names` (params['w1'] -> params_w1), distinct."""
    seen, arguments = set(), []
    for name, spec in zip(names, specs):
        base = re.sub(r"_+", "_", _identifier(name)).strip("_") or "x"
        if base[0].isdigit() or base in _C_KEYWORDS:
            base = "a_" + base
        unique, k = base, 1
        while unique in seen:
            unique, k = f"{base}_{k}", k + 1
        seen.add(unique)
        arguments.append({"name": unique, "path": name, "shape": list(spec.shape), "dtype": spec.dtype})
    return arguments


def _spec_text(a):
    return f"{a['dtype']}[{', '.join(map(str, a['shape']))}]"


def _signature_text(manifest, entry):
    info = manifest["entries"][entry]
    donated = {i for i, _ in info["donated"]}
    params = [f"{'' if i in donated else 'const '}{C_TYPES[a['dtype']]} *{a['name']}"
              for i, a in enumerate(info["inputs"])]
    params += [f"{C_TYPES[a['dtype']]} *{a['name']}" for a in info["outputs"]]
    return f"void {info['c_function']}({', '.join(params) or 'void'})"


_ENTRY_DOC = {"forward": "the function's results",
              "jvp": "forward mode: the results and their tangents along the d_ inputs",
              "vjp": "reverse mode: the gradients of <seed, results>",
              "grad": "the gradients (seed 1) of the scalar result",
              "value_and_grad": "the value and its gradients (seed 1) in one forward and one reverse sweep"}


def c_header(manifest):
    """The C header declaring the library's functions, one block per entry point."""
    name, target = manifest["name"], manifest["target"]
    guard = f"TGRAPH_EXPORT_{name.upper()}_H"
    runtime = ("The code runs its parallel loops on {} threads through an OpenMP runtime with the __kmpc_ ABI: "
               "link with -liomp5 (or -lomp) too.".format(target["threads"]) if target["openmp"]
               else "Single-threaded: no runtime beyond libc, libm and libgcc.")
    lines = [
        f"/* {name}.h: @{manifest['function']} compiled by tgraph {manifest['tgraph_version']} (tgraph.export).",
        " * Generated: do not edit; manifest.json describes the same functions.",
        " *",
        f" * Link with -L<this directory> -l{name}. {runtime}",
        f" * CPU: {target['machine']} with {' '.join(target['features']) or 'no extensions'}",
        f" *      (compiled on {target['cpu'] or 'an unknown model'}).",
        " *",
        " * Every array is C-contiguous (row-major) and passed as a pointer to its first element;",
        " * inputs are read only (except donated ones, which receive an output), outputs are written",
        " * into arrays the caller allocates. f16 and bf16 elements are passed as their 16 bits.",
        " */",
        f"#ifndef {guard}", f"#define {guard}", "", "#include <stdbool.h>", "#include <stdint.h>", "",
        "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    for entry, info in manifest["entries"].items():
        macro = info["c_function"].upper()
        lines.append(f"/* {info['c_function']}: {_ENTRY_DOC[entry]}.")
        for kind, arguments in (("input", info["inputs"]), ("output", info["outputs"])):
            for a in arguments:
                note = f" (donated: holds {a['donated_to']} after the call)" if "donated_to" in a else ""
                lines.append(f" *   {kind:6s} {a['name']}: {_spec_text(a)}{note}")
        lines.append(" */")
        lines.append(f"#define {macro}_NUM_INPUTS {len(info['inputs'])}")
        lines.append(f"#define {macro}_NUM_OUTPUTS {len(info['outputs'])}")
        for kind, arguments in (("INPUT", info["inputs"]), ("OUTPUT", info["outputs"])):
            for i, a in enumerate(arguments):
                size = 1
                for d in a["shape"]:
                    size *= d
                lines.append(f"#define {macro}_{kind}{i}_SIZE {size}  /* {a['name']}: {_spec_text(a)} */")
                lines.append(f"#define {macro}_{kind}{i}_RANK {len(a['shape'])}")
                if a["shape"]:
                    lines.append(f"#define {macro}_{kind}{i}_SHAPE {{{', '.join(map(str, a['shape']))}}}")
        lines.append(_signature_text(manifest, entry) + ";")
        lines.append("")
    lines += ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
    return "\n".join(lines)


def _c_wrappers(manifest):
    """The C functions over the compiled code's C interface: each builds the memref descriptors
    (MLIR's {allocated, aligned, offset, sizes, strides}) of its C-contiguous arrays."""
    ranks = {len(a["shape"]) for info in manifest["entries"].values() for a in info["inputs"] + info["outputs"]}
    lines = [f'#include "{manifest["header"]}"', ""]
    for rank in sorted(ranks):
        dims = f" int64_t sizes[{rank}]; int64_t strides[{rank}];" if rank else ""
        lines.append(f"typedef struct {{ void *allocated; void *aligned; int64_t offset;{dims} }} memref{rank}_t;")
    lines.append("")
    for entry, info in manifest["entries"].items():
        arguments = info["inputs"] + info["outputs"]
        params = ", ".join(f"memref{len(a['shape'])}_t *" for a in arguments)
        lines.append(f"extern void _mlir_ciface_{info['symbol']}({params or 'void'});")
        lines.append(_signature_text(manifest, entry) + " {")
        for k, a in enumerate(arguments):
            shape, strides, stride = a["shape"], [], 1
            for size in reversed(shape):
                strides.append(stride if 0 not in shape else 0)
                stride *= size
            strides.reverse()
            dims = f", {{{', '.join(map(str, shape))}}}, {{{', '.join(map(str, strides))}}}" if shape else ""
            lines.append(f"  memref{len(shape)}_t m{k} = {{(void *){a['name']}, (void *){a['name']}, 0{dims}}};")
        lines.append(f"  _mlir_ciface_{info['symbol']}({', '.join(f'&m{k}' for k in range(len(arguments)))});")
        lines.append("}")
        lines.append("")
    return "\n".join(lines)

