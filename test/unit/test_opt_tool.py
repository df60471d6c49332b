"""tgraph-opt as a command: it never loses a file and reports every failure as one line, never a
Python traceback."""

import os
import stat
import subprocess
import sys

import pytest

from tgraph.passes import PipelineError
from tgraph.passes.tg_conv_to_matmul import ConvToMatmul
from tgraph.passes.cpu.tg_cpu_codegen import CpuCodegen
from tgraph.passes.cpu.tg_plan_cpu_codegen import PlanCpuCodegen
from tgraph.passes.cpu.tg_cpu_pipeline import CpuPipeline
from tgraph.passes.gpu.tg_gpu_pipeline import GpuPipeline

SOURCE = """\
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}
"""
PRECIOUS = b"// an earlier result that must survive a failed run\n"


def tgraph_opt(*args):
    return subprocess.run([sys.executable, "-m", "tgraph.tools.opt", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tgraph-opt: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "f.mlir"
    path.write_text(SOURCE)
    return path


@pytest.fixture
def precious(tmp_path):
    path = tmp_path / "out.mlir"
    path.write_bytes(PRECIOUS)
    return path


def test_in_place_output_is_the_optimized_input(source):
    result = tgraph_opt(source, "--cse", "-o", source)
    assert result.returncode == 0, result.stderr
    text = source.read_text()
    assert "func.func @f" in text and text.count('"tg.exp"') == 1, text


def test_output_keeps_the_permission_bits_of_the_file_it_replaces(source, precious):
    precious.chmod(0o640)
    assert tgraph_opt(source, "--cse", "-o", precious).returncode == 0
    assert stat.S_IMODE(precious.stat().st_mode) == 0o640
    assert b"func.func @f" in precious.read_bytes()


def test_new_output_file_has_the_usual_permissions(source, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    out = tmp_path / "new.mlir"
    assert tgraph_opt(source, "-o", out).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.mlir", "new.mlir"]  # no temporary file left


def test_failing_pass_leaves_the_output_file_intact(source, precious, tmp_path):
    result = tgraph_opt(source, "--tg-generate-adjoint=func=missing", "-o", precious)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert precious.read_bytes() == PRECIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.mlir", "out.mlir"]  # no temporary file left


def test_malformed_input_leaves_the_output_file_intact(tmp_path, precious):
    bad = tmp_path / "bad.mlir"
    bad.write_text(SOURCE.replace("(%a)", "(%b)", 1))
    result = tgraph_opt(bad, "-o", precious)
    assert result.returncode == 1 and "use of undeclared SSA value" in result.stderr
    assert precious.read_bytes() == PRECIOUS


def test_bad_option_leaves_the_output_file_intact(source, precious):
    assert_one_line_error(tgraph_opt(source, "--tg-cpu-pipeline=threads=-1", "-o", precious), "threads")
    assert precious.read_bytes() == PRECIOUS


def test_missing_input_leaves_the_output_file_intact(tmp_path, precious):
    assert_one_line_error(tgraph_opt(tmp_path / "missing.mlir", "-o", precious),
                          "missing.mlir", "No such file or directory")
    assert precious.read_bytes() == PRECIOUS


def test_input_that_is_not_utf8(tmp_path, precious):
    latin1 = tmp_path / "latin1.mlir"
    latin1.write_bytes(SOURCE.replace("@f", "@caf\xe9").encode("latin-1"))
    assert_one_line_error(tgraph_opt(latin1, "-o", precious), "latin1.mlir", "UTF-8")
    assert precious.read_bytes() == PRECIOUS


def test_input_that_is_a_directory(tmp_path):
    assert_one_line_error(tgraph_opt(tmp_path), str(tmp_path), "Is a directory")


def test_output_into_a_missing_directory(source, tmp_path):
    target = tmp_path / "no" / "such" / "out.mlir"
    assert_one_line_error(tgraph_opt(source, "-o", target), str(target), "No such file or directory")
    assert not (tmp_path / "no").exists()


def test_output_that_is_a_directory(source, tmp_path):
    (tmp_path / "dir").mkdir()
    assert_one_line_error(tgraph_opt(source, "-o", tmp_path / "dir"), "dir", "Is a directory")
    assert list((tmp_path / "dir").iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_to_a_full_device(source):
    assert_one_line_error(tgraph_opt(source, "-o", "/dev/full"), "/dev/full", "No space left on device")


def test_list_passes_into_a_missing_directory(tmp_path):
    assert_one_line_error(tgraph_opt("--list-passes", "-o", tmp_path / "no" / "list.txt"), "No such file")


@pytest.mark.parametrize("flag, option, allowed", [
    ("--tg-plan-cpu-codegen=vector-width=-8", "vector-width", "power of two"),
    ("--tg-plan-cpu-codegen=vector-width=6", "vector-width", "power of two"),
    ("--tg-cpu-codegen=vector-width=3", "vector-width", "power of two"),
    ("--tg-plan-cpu-codegen=threads=-2", "threads", ">= 0"),
    ("--tg-cpu-codegen=threads=-1", "threads", ">= 0"),
    ("--tg-cpu-pipeline=threads=-1", "threads", ">= 1"),
    ("--tg-cpu-pipeline=threads=0", "threads", ">= 1"),
    ("--tg-conv-to-matmul=max-columns=-1", "max-columns", ">= 0"),
    ("--tg-gpu-pipeline=stage=bogus", "stage", "gpu, nvvm"),
])
def test_out_of_range_options_name_the_option(source, flag, option, allowed):
    pass_name = flag[2:].split("=")[0]
    assert_one_line_error(tgraph_opt(source, flag), f"option '{option}'", f"'{pass_name}'", allowed)


@pytest.mark.parametrize("make", [
    lambda: PlanCpuCodegen(vector_width=-8),
    lambda: PlanCpuCodegen(vector_width=12),
    lambda: PlanCpuCodegen(threads=-1),
    lambda: CpuCodegen(vector_width=5),
    lambda: CpuPipeline(threads=0),
    lambda: ConvToMatmul(max_columns=-1),
    lambda: GpuPipeline(stage="ptx"),
])
def test_passes_built_directly_check_their_options(make):
    with pytest.raises(PipelineError, match=r"option '[\w-]+' of pass 'tg-[\w-]+' must be"):
        make()


def test_values_in_range_are_accepted():
    for width in (0, 1, 4, 8, 16):
        assert PlanCpuCodegen(vector_width=width).vector_width == width
    assert PlanCpuCodegen(threads=0).pipeline_text() == "tg-plan-cpu-codegen"
    assert CpuPipeline(threads=1).threads == 1 and ConvToMatmul(max_columns=0).max_columns == 0
    assert GpuPipeline.from_options("stage=gpu").stage == "gpu"
