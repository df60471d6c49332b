"""dialect/tg.irdl.mlir is generated from the Python definition and must not go stale."""

import subprocess

import pytest

import tgraph as tg
from tgraph.dialect import IRDL_FILE, REFERENCE_FILE, irdl_text, op_reference
from tgraph.support.mlir import bundled_opt_tool


def test_irdl_file_is_current():
    with open(IRDL_FILE) as f:
        assert f.read() == irdl_text(), "dialect/tg.irdl.mlir is stale: run `make irdl` and commit it"


def test_op_reference_is_current():
    with open(REFERENCE_FILE) as f:
        assert f.read() == op_reference(), "dialect/OPS.md is stale: run `make irdl` and commit it"


def test_external_tool_parses_builder_output(tmp_path):
    tool = bundled_opt_tool()
    if tool is None:
        pytest.skip("the MLIR bindings ship no opt binary")
    g = tg.trace(lambda x, w: tg.relu(tg.conv2d(x, w, padding=1)).sum(), [tg.f32[1, 2, 5, 5], tg.f32[3, 2, 3, 3]])
    path = tmp_path / "g.mlir"
    path.write_text(g.ir())
    out = subprocess.run([tool, f"--irdl-file={IRDL_FILE}", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"tg.conv2d"' in out.stdout and '"tg.reduce_sum"' in out.stdout
