"""`tgraph.runtime.load(directory)`: an artifact written by `tgraph.export`, called from Python
with the entry points and argument checks of the compiled object it came from.

Needs numpy, ml_dtypes and optree, not MLIR: this module imports nothing of tgraph's compiler, so
a deployment can install tgraph without the bindings (`import tgraph.runtime` does not load them).
The artifact refuses to load on another architecture or on a CPU that lacks an instruction-set
extension its code may use."""

import ctypes
import json
import os
import platform

from .entry_points import OutEntryPoints, ScalarEntryPoints, Signature
from .support import pytrees
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, user_facing
from .support.native import NativeFunction, packed_entry, prepare_runtimes
from .support.target import host_cpu

FORMAT, VERSION, MANIFEST = "tgraph-export", 1, "manifest.json"  # what tgraph.aot writes, and this reads


class Loaded:
    """An exported artifact's entry points (see ScalarEntryPoints / OutEntryPoints for the calls)."""

    def __init__(self, directory, manifest, functions):
        self.directory, self.manifest = directory, manifest
        self.name = manifest["name"]
        self.input_specs = _specs(manifest["inputs"])
        self.output_specs = _specs(manifest["outputs"])
        self.wrt = tuple(manifest["wrt"])
        self.donate = tuple(tuple(p) for p in manifest["entries"].get("forward", {}).get("donated", ()))
        self.arg_names = list(manifest["arg_names"])
        self._signature = Signature(len(self.input_specs), _tree(manifest["input_tree"]),
                                    _tree(manifest["output_tree"]), arg_names=self.arg_names)
        self._functions = functions
        for entry, methods in _METHODS.items():  # an entry left out of the export: its methods say so
            if entry not in functions:
                for method in methods:
                    setattr(self, method, _not_exported(self, entry))

    @property
    def entries(self):
        """The entry points this artifact has (an export may leave some out)."""
        return tuple(self._functions)

    def arguments(self, leaves):
        """The function's arguments (a tuple, pytrees rebuilt: dicts, lists, namedtuples) from their
        leaves in the manifest's order (`tgraph.tree_leaves(args)` where they were made); what a
        deployment does with saved parameters and optimizer state."""
        leaves = list(leaves)
        if len(leaves) != len(self.input_specs):
            raise TGraphError(f"{self.name}: expected {len(self.input_specs)} leaves, got {len(leaves)}")
        if self._signature.structured_in:
            return tuple(pytrees.unflatten(self._signature.in_tree, leaves))
        return tuple(leaves)

    def run(self, entry, arrays):
        return self._functions[entry].run(arrays)

    def __call__(self, *xs):
        return self.forward(*xs)

    def __repr__(self):
        ins = ", ".join(f"{n}: {s}" for n, s in zip(self._signature.leaf_names, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        return f"<tgraph.runtime.{type(self).__name__} {self.name}({ins}) -> {outs}; entries: {', '.join(self.entries)}>"


class LoadedScalar(ScalarEntryPoints, Loaded):
    """From a CompiledScalar: forward, jvp, backward, backward_with_seed, value_and_grad."""


class LoadedOut(OutEntryPoints, Loaded):
    """From a CompiledOut: forward, jvp, vjp_with_seed."""


# entry point -> the methods that call it
_METHODS = {"forward": ("forward",), "jvp": ("jvp",), "grad": ("backward",),
            "vjp": ("backward_with_seed", "vjp_with_seed"), "value_and_grad": ("value_and_grad",)}


def _not_exported(loaded, entry):
    @user_facing
    def missing(*args, **kwargs):
        raise TGraphError(f"{loaded.name}: the entry point {entry!r} was not exported (this artifact has "
                          f"{', '.join(loaded.entries)}); export it with entries=[..., {entry!r}]")
    return missing


@user_facing
def load(directory):
    """The artifact `tgraph.export` wrote to `directory`: a LoadedScalar or LoadedOut."""
    directory = os.fspath(directory)
    manifest = _manifest(directory)
    check_cpu(manifest)
    threads = manifest["target"]["threads"]
    try:
        prepare_runtimes(threads)
    except OSError as err:
        raise TGraphError(f"cannot load {directory!r}: {err} (it was exported with threads={threads}; "
                          "install one, e.g. the intel-openmp package, or export with threads=1)") from None
    path = os.path.join(directory, manifest["library"])
    try:
        library = ctypes.CDLL(os.path.abspath(path))
    except OSError as err:
        raise TGraphError(f"cannot load {path!r}: {err}") from None
    functions = {}
    for entry, info in manifest["entries"].items():
        try:
            address = packed_entry(library, info["symbol"])
        except AttributeError:
            raise TGraphError(f"{path!r} lacks the entry point {entry!r} (symbol {info['symbol']}) that "
                              "manifest.json names: the files are from different exports") from None
        donated = info["donated"]
        outputs = [TensorSpec(tuple(a["shape"]), a["dtype"]) for a in info["outputs"]]
        for i, k in sorted(donated, key=lambda pair: pair[1]):  # the donated outputs, back in their places
            outputs.insert(k, TensorSpec(tuple(info["inputs"][i]["shape"]), info["inputs"][i]["dtype"]))
        functions[entry] = NativeFunction().bind(
            address, f"{manifest['name']}_{entry}", [TensorSpec(tuple(a["shape"]), a["dtype"]) for a in info["inputs"]],
            outputs, manifest["allocations"], donated)
    kind = LoadedScalar if manifest["kind"] == "scalar" else LoadedOut
    return kind(directory, manifest, functions)


def _manifest(directory):
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path) as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise TGraphError(f"{directory!r} has no {MANIFEST}: not a directory tgraph.export wrote") from None
    except (OSError, ValueError) as err:
        raise TGraphError(f"cannot read {path!r}: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TGraphError(f"{path!r} is not a tgraph export manifest")
    if manifest.get("version") != VERSION:
        raise TGraphError(f"{path!r} is format version {manifest.get('version')}; this tgraph reads version "
                          f"{VERSION}: export it again with this tgraph")
    return manifest


def check_cpu(manifest):
    """A TGraphError unless this CPU runs the artifact's code: the same architecture and every
    instruction-set extension the code was compiled to use."""
    target = manifest["target"]
    machine = platform.machine().lower()
    if target["machine"] != machine:
        raise TGraphError(f"{manifest['name']} was compiled for {target['machine']}; this machine is {machine}. "
                          "Export it again on this machine")
    missing = sorted(set(target["features"]) - host_cpu()[1])
    if missing:
        raise TGraphError(f"{manifest['name']} was compiled for a CPU with {', '.join(missing)} "
                          f"({target['cpu'] or 'its model is unknown'}); this CPU ({host_cpu()[0] or 'unknown'}) lacks "
                          "them, and the code would stop on an illegal instruction. Export it again on this CPU, "
                          "or on the first one with TGRAPH_VECTOR_WIDTH=8 (AVX2) or 4 (SSE) set")


def _specs(items):
    return [TensorSpec(tuple(shape), dtype) for shape, dtype in items]


def _tree(description):
    return None if description is None else pytrees.from_description(description)
