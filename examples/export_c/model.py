"""Export a small regression MLP's entry points for C: `python model.py DIR` writes libmlp.so,
mlp.h and manifest.json to DIR (main.c in this folder calls them).

The inputs are a deterministic pattern that main.c computes the same way (`pattern`), so the
numbers it prints can be checked against Python's."""

import sys

import numpy as np

import tgraph as tg

SHAPES = {"w1": (4, 16), "b1": (16,), "w2": (16, 3), "b2": (3,), "x": (32, 4), "y": (32, 3)}


def pattern(n, seed):
    """main.c's `pattern`: ((i * 7919 + seed * 104729) mod 2003) / 2003 - 0.5, rounded to f32."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919 + seed * 104729) % 2003) / 2003.0 - 0.5).astype(np.float32)


def example_inputs():
    arrays = {k: pattern(int(np.prod(s)), seed).reshape(s) for seed, (k, s) in enumerate(SHAPES.items())}
    params = {k: arrays[k] for k in ("w1", "b1", "w2", "b2")}
    return params, arrays["x"], arrays["y"]


def mlp_loss(params, x, y):
    hidden = tg.tanh(x @ params["w1"] + params["b1"])
    return tg.mean((hidden @ params["w2"] + params["b2"] - y) ** 2)


def compiled():
    params, x, y = example_inputs()
    return tg.jit(mlp_loss, wrt=[0]).compiled(params, x, y)  # gradients for the parameters only


if __name__ == "__main__":
    manifest = tg.export(compiled(), sys.argv[1] if len(sys.argv) > 1 else "mlp_export", name="mlp", threads=1)
    print(f"exported {', '.join(manifest['entries'])} to lib{manifest['name']}.so")
