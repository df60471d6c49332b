"""One benchmark run: the selected workloads for the selected systems, as the JSON-ready dict that
report.py prints. Import it only after threads.configure."""

import numpy as np
from tqdm import tqdm

import checkpoint_memory
import distributed
import compile_chain
import scan_costs
import first_call
import impl_numpy
import machine
import measure
from systems import load
from workloads import BY_NAME, CHECKPOINT_MEMORY, COMPILE_CHAIN, DISTRIBUTED, FIRST_CALL, SCAN_COSTS, inputs_of, transformer_inputs


def _row(name, title, cells, reps, unit="", work=0.0, formula="", inner=1):
    """A row of the report; `reps`: the repetitions (or processes) asked for each cell."""
    return {"name": name, "title": title, "reps": reps, "unit": unit, "work": work, "formula": formula,
            "inner": inner, "cells": cells}


def _first_call_rows(systems, settings):
    mlp = BY_NAME["mlp_value_and_grad"]
    wide = [a.astype("float64") if a.dtype.kind == "f" else a for a in transformer_inputs(np.random.default_rng(0))]
    expected = {"mlp": float(measure.reference(mlp, inputs_of(mlp))[0]),
                "transformer": float(impl_numpy.transformer_loss(*wide))}
    measured = [s for s in systems if s in first_call.CACHE_ENV]
    cells = first_call.measure(measured, settings["compile_samples"], expected, settings["tolerance"])
    for row in cells.values():
        row.update({s: {"status": "n/a"} for s in systems if s not in measured})
    return [_row(name, title, cells[name], settings["compile_samples"]) for name, title, *_ in FIRST_CALL]


def collect(settings, names, systems):
    """Run the workloads `names` (see workloads.NAMES) for `systems` (keys of systems.SYSTEMS)."""
    modules, skipped = {}, {}
    for system in systems:
        modules[system], why = load(system)
        if why:
            skipped[system] = why
    present = [s for s in systems if s not in skipped]
    start = machine.cpu_snapshot()
    results = {"machine": machine.info(settings["threads"]), "settings": settings, "systems": systems, "skipped": skipped,
               "workloads": [], "skipped_workloads": {}}
    for name in tqdm(names, desc="benchmarks", unit="workload", leave=False):
        if name in BY_NAME and BY_NAME[name].device == "cuda" and not results["machine"]["gpu"]:
            results["skipped_workloads"][name] = "no NVIDIA GPU and driver on this machine"
            continue
        if name == CHECKPOINT_MEMORY:  # bytes, not times: the report's memory table
            results["memory"] = checkpoint_memory.measure(present, settings["tolerance"])
            for row in results["memory"]:
                row["cells"].update({s: {"status": "skipped"} for s in skipped})
            continue
        if name == DISTRIBUTED:  # its own table (tgraph and mpi4py on 1 and 2 processes)
            if "tgraph" in present:
                runs, why = distributed.measure()
                if runs is None:
                    results["skipped_workloads"][name] = why
                else:
                    results["distributed"] = runs
            continue
        if name == "first_call":
            rows = _first_call_rows(present, settings)
        elif name == SCAN_COSTS:
            found, notes = scan_costs.measure(present, settings["compile_samples"])
            rows = [_row(key, title, cells, settings["compile_samples"]) for key, title, cells in found]
            results.setdefault("notes", []).extend(notes)
        elif name == COMPILE_CHAIN[0]:
            cells = compile_chain.measure(present, settings["compile_samples"], settings["tolerance"])
            rows = [_row(*COMPILE_CHAIN, cells, settings["compile_samples"])]
        else:
            w = BY_NAME[name]
            calls, cells = measure.prepare(w, present, modules, settings["warmup"])
            measure.time_round_robin(calls, cells, settings["reps"], w.inner, settings["budget_s"],
                                     settings["lead_in_s"])
            rows = [_row(w.name, w.title, cells, settings["reps"], w.unit, w.work, w.formula, w.inner)]
        for row in rows:
            row["cells"].update({s: {"status": "skipped"} for s in skipped})
            results["workloads"].append(row)
    results["other_processes_cores"] = machine.other_load(start, machine.cpu_snapshot())
    # The peak again at the end, the higher kept: on a shared machine one measurement can come out low.
    peaks = [p for p in (results["machine"]["fma_peak_gflops"], machine.fma_peak(settings["threads"])) if p]
    results["machine"]["fma_peak_gflops"] = max(peaks, default=None)
    return results
