"""Build each system's call for a workload, check its result against the float64 reference, warm
it up, then time every system in the same loop, round-robin.

A repetition runs each system once, in an order rotated by one system per repetition (so no system
always follows the same other one): untimed calls for at least `lead_in` seconds (at least one),
then `workload.inner` timed calls in a row. The lead-in puts the system in the state of a loop of
calls (its worker threads awake, its data in cache) and outlasts the spinning of the previous
system's workers (see threads.py), which would otherwise take cores from the timed calls; sleeping
instead would let this VM's idle cores fall asleep too, which makes the next call slower. The
garbage collector is off meanwhile. A system stops repeating once its repetitions took `budget`
seconds in all (the count is in the report). An exception anywhere makes that system's cell an
error; the run goes on."""

import gc
import time

import numpy as np

import impl_numpy
from systems import SYSTEMS, NoDevice, NotApplicable, short
from workloads import inputs_of

TOLERANCE = 1e-3  # largest |result - reference| / max |reference|, per output


def flatten(result):
    """A result (a float, arrays or tensors, nested tuples, None for undifferentiated inputs) as a
    list of float64 numpy arrays."""
    if result is None:
        return []
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in flatten(r)]
    if hasattr(result, "detach"):  # a torch tensor, maybe on the GPU
        result = result.detach().cpu().numpy()
    return [np.asarray(result, dtype=np.float64)]


def relative_error(result, reference):
    """max over outputs of max |result - reference| / max |reference|; inf on a shape mismatch."""
    got, want = flatten(result), flatten(reference)
    if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
        return float("inf")
    errors = [np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30) for g, w in zip(got, want) if w.size]
    return float(max(errors, default=0.0))


def reference(workload, inputs):
    """impl_numpy on float64 copies of the inputs."""
    wide = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs]
    return getattr(impl_numpy, workload.reference or workload.builder)(wide)()


def prepare(workload, systems, modules, warmup):
    """Build, check and warm up each system: (calls to time, cells for the report)."""
    inputs = inputs_of(workload)
    expected = reference(workload, inputs)
    calls, cells = {}, {}
    for system in systems:
        module, options = modules[system], dict(SYSTEMS[system][1])
        if workload.device not in getattr(module, "DEVICES", ("cpu",)) or not hasattr(module, workload.builder):
            cells[system] = {"status": "n/a"}
            continue
        if workload.device != "cpu":
            options["device"] = workload.device
        try:
            start = time.perf_counter()
            call = getattr(module, workload.builder)(inputs, **options)
            error = relative_error(call(), expected)
            first = time.perf_counter() - start
            for _ in range(warmup):
                call()
        except NoDevice:
            cells[system] = {"status": "no GPU"}
            continue
        except NotApplicable:
            cells[system] = {"status": "n/a"}
            continue
        except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
            cells[system] = {"status": "error", "error": short(err)}
            continue
        calls[system] = call
        cells[system] = {"status": "ok", "first_call_s": first, "check_error": error,
                         "check_ok": error <= (workload.tolerance or TOLERANCE)}
    return calls, cells


def time_round_robin(calls, cells, reps, inner, budget, lead_in):
    """Fill cells[system]["times_s"] (seconds per call, one per repetition) and "median_s"."""
    if not calls:
        return
    times = {s: [] for s in calls}
    spent = dict.fromkeys(calls, 0.0)
    order = list(calls)
    gc.collect()
    gc.disable()
    try:
        for rep in range(reps):
            for system in order[rep % len(order):] + order[:rep % len(order)]:
                if spent[system] >= budget or system not in calls:
                    continue
                call = calls[system]
                try:
                    begin = time.perf_counter()
                    call()
                    while time.perf_counter() - begin < lead_in:
                        call()
                    start = time.perf_counter()
                    for _ in range(inner):
                        call()
                    end = time.perf_counter()
                except Exception as err:  # noqa: BLE001
                    cells[system] = {"status": "error", "error": short(err)}
                    del calls[system]
                    continue
                elapsed = (end - start) / inner
                times[system].append(elapsed)
                spent[system] += end - begin
    finally:
        gc.enable()
    for system in calls:
        cells[system].update(times_s=times[system], reps=len(times[system]),
                             median_s=float(np.median(times[system])))
