"""The systems compared, the impl_<name> module that implements each, and loading them."""

import importlib
import re

# system -> (module, keyword arguments of its builders)
SYSTEMS = {
    "tgraph": ("impl_tgraph", {}),
    "numpy": ("impl_numpy", {}),
    "jax": ("impl_jax", {}),
    "torch": ("impl_torch", {}),
    "torch.compile": ("impl_torch", {"compiled": True}),
}


class NoDevice(Exception):
    """A system's builder for a GPU workload, on a machine where that system sees no GPU."""


class NotApplicable(Exception):
    """A workload a system does not have (its cell reads n/a)."""


def load(system):
    """(the system's module, None) or (None, why it is skipped)."""
    try:
        return importlib.import_module(SYSTEMS[system][0]), None
    except ImportError as err:
        return None, f"not installed ({err.name or err}); pip install -e '.[bench]'"


def short(err):
    """An exception in one line of at most 120 characters: its type and its last line, file paths
    shortened to file names."""
    lines = [line for line in str(err).strip().splitlines() if line.strip()]
    text = re.sub(r"/(?:[\w.+-]+/)+([\w.+-]+)", r"\1", f"{type(err).__name__}: {lines[-1] if lines else ''}")
    return text if len(text) <= 120 else text[:117] + "..."
