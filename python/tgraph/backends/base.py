"""The interface every backend implements, and the registry of backends by target name."""


class Backend:
    """What a target provides. `stages`: the names `ir(stage)` takes after the tg-level ones;
    `artifacts`: stages that are not IR after a pass but an attribute of the executable (the
    GPU's LLVM IR and PTX)."""

    name = ""
    stages = ()
    artifacts = {}

    donates = False  # whether compile takes `donate`: (argument, result) pairs whose buffers are shared

    def compile(self, module, name, log=None, donate=()):
        """An executable for @name of `module` (a Graph or an ir.Module); `log(stage, pass,
        module operation)` after every pass when given (the pipeline then runs pass by pass).
        `donate`: (argument, result) pairs, result computed into the argument's array (jit's
        donate_argnums), where the backend `donates`."""
        raise NotImplementedError

    def conform(self, arrays, specs, where, what, names=None):
        """Arguments checked against `specs` and made ready for `run`; a TGraphError otherwise."""
        raise NotImplementedError

    def cache_options(self):
        """What the compiled code depends on besides the graph and the entry (JSON-ready)."""
        raise NotImplementedError

    def load_cached(self, digest):
        """The executable stored under `digest`, or None."""
        raise NotImplementedError

    def store_cached(self, digest, executable):
        """Store `executable` under `digest` (quietly nothing when the cache cannot take it)."""
        raise NotImplementedError


BACKENDS = {}


def register(backend):
    BACKENDS[backend.name] = backend
    return backend
