"""What checkpointing (rematerialization) saves and costs: the value_and_grad of a 16-layer tanh MLP
(width 512, batch 1024, f32, loss mean(h^2), gradients of the 32 parameters), keeping every
activation, with each block of 4 layers checkpointed (nothing saved: tgraph.checkpoint,
jax.checkpoint, torch.utils.checkpoint), and with matrix products saved (`dots_saveable`; PyTorch:
selective checkpointing that must save aten.mm/addmm).

Each (system, policy) runs in a new process: it compiles, calls once (which also loads code and
fills caches), gives the memory malloc kept back to the system (malloc_trim), then measures the
rise of the process's peak resident memory (VmHWM, reset through /proc/self/clear_refs) during the
second call, and the median time of 5 more calls. The parameters (16 MiB) and the gradients returned (16 MiB) are
part of every row alike; each layer's activation is 2 MiB. Also, where the system says: tgraph's
static peak of live buffers in the compiled code (`tg-record-allocations`), XLA's temporary buffer
size (`memory_analysis()`).

As a script, `python benchmarks/checkpoint_memory.py SYSTEM POLICY` prints one JSON object."""

import gc
import json
import os
import sys
import time

import numpy as np

import new_process
from systems import short

LAYERS, WIDTH, BATCH, BLOCK = 16, 512, 1024, 4
POLICIES = {"keep": "every activation kept", "nothing": "checkpoint per {block} layers, nothing saved",
            "dots": "checkpoint per {block} layers, dots_saveable"}
SYSTEMS = ("tgraph", "jax", "torch")
CALLS = 5


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    params = [((rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32),
               (rng.standard_normal(WIDTH) * 0.1).astype(np.float32)) for _ in range(LAYERS)]
    return params, rng.standard_normal((BATCH, WIDTH)).astype(np.float32)


def reference_loss(params, x):
    h = x.astype(np.float64)
    for w, b in params:
        h = np.tanh(h @ w + b)
    return float(np.mean(h * h))


def _blocks(params):
    return [params[k:k + BLOCK] for k in range(0, LAYERS, BLOCK)]


def _segment(tanh):
    """A block of layers, h -> tanh(h @ w + b) for each (w, b), in one system's functions."""
    def segment(h, ps):
        for w, b in ps:
            h = tanh(h @ w + b)
        return h
    return segment


def _loss(block, mean):
    def loss(params, x):
        h = x
        for ps in _blocks(params):
            h = block(h, ps)
        return mean(h * h)
    return loss


def _tgraph(policy, params, x):
    import tgraph as tg
    from tgraph import dialect
    from tgraph.passes.cpu.tg_record_allocations import peak_bytes
    from tgraph.support.mlir import ir

    segment = _segment(tg.tanh)
    block = segment if policy == "keep" else tg.checkpoint(
        segment, policy="dots_saveable" if policy == "dots" else None)
    loss = _loss(block, tg.mean)
    step = tg.compile_scalar(loss, [params, x], wrt=[0], eager=True)
    with dialect.context():
        static = peak_bytes(ir.Module.parse(step.ir("bufferized", entry="value_and_grad")).operation)
    return (lambda: step.value_and_grad(params, x)), lambda out: float(out[0]), {"static_peak_bytes": static}


def _jax(policy, params, x):
    import jax
    import jax.numpy as jnp

    segment = _segment(jnp.tanh)
    block = segment if policy == "keep" else jax.checkpoint(
        segment, policy=jax.checkpoint_policies.dots_saveable if policy == "dots" else None)
    loss = _loss(block, jnp.mean)
    compiled = jax.jit(jax.value_and_grad(loss)).lower(params, x).compile()
    extra = {}
    analysis = compiled.memory_analysis()
    if analysis is not None:
        extra["xla_temp_bytes"] = int(analysis.temp_size_in_bytes)
    return (lambda: jax.block_until_ready(compiled(params, x))), lambda out: float(out[0]), extra


def _torch(policy, params, x):
    import functools

    import torch
    from torch.utils import checkpoint as ckpt

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    tparams = [(torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()) for w, b in params]
    tx = torch.from_numpy(x)

    def segment(h, *flat):
        for k in range(0, len(flat), 2):
            h = torch.tanh(torch.addmm(flat[k + 1], h, flat[k]))
        return h

    if policy == "dots":
        saved = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default}

        def must_save_products(ctx, op, *args, **kwargs):
            return ckpt.CheckpointPolicy.MUST_SAVE if op in saved else ckpt.CheckpointPolicy.PREFER_RECOMPUTE

        context_fn = functools.partial(ckpt.create_selective_checkpoint_contexts, must_save_products)

    def call():
        h = tx
        for ps in _blocks(tparams):
            flat = [t for pair in ps for t in pair]
            if policy == "keep":
                h = segment(h, *flat)
            elif policy == "nothing":
                h = ckpt.checkpoint(segment, h, *flat, use_reentrant=False)
            else:
                h = ckpt.checkpoint(segment, h, *flat, use_reentrant=False, context_fn=context_fn)
        value = torch.mean(h * h)
        grads = torch.autograd.grad(value, [t for pair in tparams for t in pair])
        return value.detach(), grads

    return call, lambda out: float(out[0]), {}


BUILDERS = {"tgraph": _tgraph, "jax": _jax, "torch": _torch}


def run_one(system, policy):
    """In this process: the measurements of one (system, policy) as a dict."""
    params, x = inputs()
    call, loss_of, extra = BUILDERS[system](policy, params, x)  # compiled here (ahead of the calls)
    loss = loss_of(call())  # the first call also loads code and fills caches: not measured
    gc.collect()
    new_process.malloc_trim()
    rise = new_process.peak_rise(call)
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"peak_rise_bytes": rise, "median_s": float(np.median(times)), "loss": loss, **extra}


def measure(systems, tolerance):
    """The report's memory rows: one per policy, a cell per system ({"status": "ok", "bytes": ...,
    "median_s": ..., "check_ok": ...} or an error), each from a new process."""
    want = reference_loss(*inputs())
    rows = []
    for policy, title in POLICIES.items():
        cells = {s: {"status": "n/a"} for s in systems}
        for system in (s for s in SYSTEMS if s in systems):
            try:
                found = new_process.run(__file__, system, policy)
            except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
                cells[system] = {"status": "error", "error": short(err)}
                continue
            error = abs(found["loss"] - want) / abs(want)
            cells[system] = {"status": "ok", "bytes": found["peak_rise_bytes"], "median_s": found["median_s"],
                             "check_error": error, "check_ok": error <= tolerance,
                             **{k: v for k, v in found.items() if k.endswith("_bytes") and k != "peak_rise_bytes"}}
        rows.append({"name": f"checkpoint_memory_{policy}",
                     "title": f"MLP {LAYERS}x{WIDTH} value_and_grad, batch {BATCH}: {title.format(block=BLOCK)}",
                     "cells": cells})
    return rows


if __name__ == "__main__":
    print(json.dumps(run_one(sys.argv[1], sys.argv[2])))
