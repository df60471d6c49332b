"""The benchmark harness (benchmarks/) still runs: one tiny workload for tgraph and numpy, then
the report in every form. Nothing here asserts a time."""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "benchmarks"))
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")

import machine  # noqa: E402
import numpy as np  # noqa: E402
import report  # noqa: E402
import suite  # noqa: E402


def test_small_call_runs_checks_and_reports(tmp_path):
    settings = {"threads": 1, "reps": 2, "warmup": 0, "budget_s": 1.0, "lead_in_s": 0.0, "compile_samples": 1,
                "quick": True, "tolerance": 1e-3, "environment": {}}
    results = suite.collect(settings, ["small_call"], ["tgraph", "numpy"])
    cells = results["workloads"][0]["cells"]
    for system in ("tgraph", "numpy"):
        assert cells[system]["status"] == "ok", cells[system]
        assert cells[system]["check_ok"] and cells[system]["reps"] == 2
    saved = json.loads(json.dumps(results))
    assert "per-call overhead" in report.text(saved)
    assert "| tgraph/numpy |" in report.markdown(saved)
    report.chart(saved, tmp_path / "ratios.png")
    assert (tmp_path / "ratios.png").stat().st_size > 1000


def test_gpu_rows_are_left_out_with_a_note_without_a_gpu():
    if machine.gpu():
        pytest.skip("a GPU is present")
    settings = {"threads": 1, "reps": 1, "warmup": 0, "budget_s": 1.0, "lead_in_s": 0.0, "compile_samples": 1,
                "quick": True, "tolerance": 1e-3, "environment": {}}
    results = suite.collect(settings, ["gpu_softmax"], ["tgraph", "numpy"])
    assert results["workloads"] == []
    assert "gpu_softmax: not run, no NVIDIA GPU and driver on this machine" in report.text(results)


def _tiny_gpu_workload():
    import workloads
    return workloads.Workload("gpu_tiny", "GPU: softmax 4x8", "softmax",
                              lambda rng: [rng.standard_normal((4, 8)).astype(np.float32)], device="cuda")


def test_a_gpu_workload_is_not_applicable_to_a_system_without_the_device():
    """numpy has no GPU; tgraph's cell is 'no GPU' where its runtime finds none (no timing)."""
    import impl_numpy
    import impl_tgraph
    import measure

    if machine.gpu():
        pytest.skip("a GPU is present")
    _, cells = measure.prepare(_tiny_gpu_workload(), ["tgraph", "numpy"],
                               {"tgraph": impl_tgraph, "numpy": impl_numpy}, 0)
    assert cells == {"tgraph": {"status": "no GPU"}, "numpy": {"status": "n/a"}}


def test_a_gpu_workload_runs_for_tgraph_on_the_emulated_gpu(emulated_gpu):
    import impl_tgraph
    import measure

    assert machine.gpu() == "CPU emulator"
    calls, cells = measure.prepare(_tiny_gpu_workload(), ["tgraph"], {"tgraph": impl_tgraph}, 0)
    assert cells["tgraph"]["status"] == "ok" and cells["tgraph"]["check_ok"], cells
    measure.time_round_robin(calls, cells, 2, 1, 1.0, 0.0)
    assert cells["tgraph"]["reps"] == 2


def test_compile_chain_row_measures_tgraph_only():
    """The compile-time row on a short chain: tgraph compiles it in a fresh process and its loss
    matches numpy's; the other systems are n/a."""
    import compile_chain

    cells = compile_chain.measure(["tgraph", "numpy"], 1, 1e-3, length=20)
    assert cells["numpy"] == {"status": "n/a"}
    assert cells["tgraph"]["status"] == "ok" and cells["tgraph"]["check_ok"], cells
    assert cells["tgraph"]["reps"] == 1


def test_transformer_first_call_matches_numpy(tmp_path):
    """The transformer block's first-call program in a new process: tgraph's loss is numpy's, and the
    import is timed apart from the compile."""
    import first_call
    import impl_numpy
    from workloads import transformer_inputs

    wide = [a.astype(np.float64) for a in transformer_inputs(np.random.default_rng(0))]
    result = first_call._run("tgraph", "transformer", str(tmp_path))
    assert abs(result["loss"] - impl_numpy.transformer_loss(*wide)) <= 1e-5 * abs(result["loss"])
    assert result["seconds"] > 0 and result["import_s"] >= 0


def test_fma_peak_probe_compiles_and_counts(monkeypatch):
    """The FMA loop compiles through the bindings and gives a finite positive rate (no time asserted)."""
    import fma_peak

    monkeypatch.setattr(fma_peak, "ITERATIONS", 1000)
    peak = fma_peak.measure(2)
    assert np.isfinite(peak) and peak > 0


def test_checkpoint_memory_runs_in_process_and_reports(monkeypatch):
    """The memory rows on a small MLP: tgraph measured in this process for each policy (its loss
    matches numpy's, checkpointing lowers the static peak), then the report's memory table."""
    import checkpoint_memory as cm

    monkeypatch.setattr(cm, "LAYERS", 4)
    monkeypatch.setattr(cm, "WIDTH", 32)
    monkeypatch.setattr(cm, "BATCH", 256)
    monkeypatch.setattr(cm, "BLOCK", 2)
    want = cm.reference_loss(*cm.inputs())
    found = {policy: cm.run_one("tgraph", policy) for policy in cm.POLICIES}
    for policy, result in found.items():
        assert abs(result["loss"] - want) <= 1e-5 * abs(want), policy
        assert result["peak_rise_bytes"] >= 0 and result["median_s"] > 0
    assert found["nothing"]["static_peak_bytes"] < found["keep"]["static_peak_bytes"]
    results = {"machine": machine.info(1), "systems": ["tgraph", "jax"], "skipped": {}, "workloads": [],
               "settings": {"threads": 1, "reps": 1, "warmup": 0, "budget_s": 1.0, "lead_in_s": 0.0,
                            "compile_samples": 1, "tolerance": 1e-3},
               "memory": [{"name": f"checkpoint_memory_{p}", "title": f"MLP: {cm.POLICIES[p].format(block=cm.BLOCK)}",
                           "cells": {"tgraph": {"status": "ok", "bytes": r["peak_rise_bytes"], "median_s": r["median_s"],
                                                "check_error": 0.0, "check_ok": True,
                                                "static_peak_bytes": r["static_peak_bytes"]},
                                     "jax": {"status": "error", "error": "RuntimeError: not measured here"}}}
                          for p, r in found.items()]}
    text = report.text(json.loads(json.dumps(results)))
    assert "peak memory of one call" in text and "MLP: checkpoint per 2 layers, nothing saved" in text
    assert f"{found['keep']['static_peak_bytes'] / 2**20:.1f} MiB" in text
    assert "| tgraph's static peak |" in report.markdown(results)


def test_train_step_row_checks_tgraph_against_numpy_adam():
    """mlp_train_step: tgraph's one-function step (value_and_grad and tg.optim.adam) gives the loss
    and the parameters after one Adam step of the numpy reference."""
    import impl_numpy
    import impl_tgraph
    import measure
    from workloads import BY_NAME

    _, cells = measure.prepare(BY_NAME["mlp_train_step"], ["tgraph", "numpy"],
                               {"tgraph": impl_tgraph, "numpy": impl_numpy}, 0)
    assert cells["tgraph"]["status"] == "ok" and cells["tgraph"]["check_ok"], cells
    # Adam's first step is g / (|g| + eps): f32 rounding of tiny gradients shows, in numpy's f32 as in tgraph
    assert cells["tgraph"]["check_error"] <= 10 * cells["numpy"]["check_error"]


def test_bf16_train_step_row_computes_in_bf16_within_its_tolerance():
    """mlp_train_step_bf16: bf16 matmuls with f32 accumulation, checked against the f64 step with
    the bf16 tolerance; its error shows bf16 rounding (it is not an f32 step)."""
    import impl_tgraph
    import measure
    from workloads import BF16_TOLERANCE, BY_NAME

    _, cells = measure.prepare(BY_NAME["mlp_train_step_bf16"], ["tgraph"], {"tgraph": impl_tgraph}, 0)
    assert cells["tgraph"]["status"] == "ok" and cells["tgraph"]["check_ok"], cells
    assert 1e-4 < cells["tgraph"]["check_error"] <= BF16_TOLERANCE
