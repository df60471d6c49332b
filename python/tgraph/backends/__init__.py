"""Backends: one interface (`Backend`), one implementation per target (`cpu`, `cuda`).

A backend compiles the tg function @name of an ir.Module through its pipeline of named stages
into an executable with `run(conformed arguments) -> results`, conforms arguments (one checker,
support.arguments, with the target's own idea of arrays already in its memory), and stores and
loads executables in the on-disk cache (its codec over `cache`'s files). The compiled objects
(tgraph.compiled) hold a backend and never ask which target it is."""

from ..support.errors import TGraphError
from .base import BACKENDS, Backend, register  # noqa: F401
from . import cpu, cuda  # noqa: F401  (each registers its backend)

TARGETS = ("cpu", "cuda")  # backends.cpu and backends.cuda


def get(target):
    """The backend of a target name; a TGraphError naming the targets otherwise."""
    backend = BACKENDS.get(target) if isinstance(target, str) else None
    if backend is None:
        raise TGraphError(f"target {target!r} is not available; targets: {', '.join(map(repr, TARGETS))}")
    return backend
