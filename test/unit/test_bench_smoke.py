"""The benchmark harness (benchmarks/) still runs: one tiny workload for tgraph and numpy, then
the report in every form. Nothing here asserts a time."""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "benchmarks"))
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")

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
