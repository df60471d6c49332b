"""The digits examples train to the accuracy they promise (the MLP is `make demo`), each step one
compiled function: forward, backward and tg.optim.adam."""

import os
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
pytest.importorskip("sklearn")


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_digits_example_reaches_95_percent(name, capsys):
    module = __import__(name)
    accuracy = module.main(quiet=True)
    out = capsys.readouterr().out
    assert accuracy >= 0.95, out
    png = EXAMPLES.parent / "out" / f"{name}_loss.png"
    assert png.exists() and png.stat().st_size > 10_000
    for stage in ("tg", "linalg", "llvm"):
        assert os.path.getsize(EXAMPLES.parent / "out" / f"{name}_ir" / f"{stage}.mlir") > 100
    assert "compiled the train step in" in out and "IR of each stage of the train step" in out
    # one function: the forward pass, its adjoint (the weight gradients' contractions) and Adam's sqrt
    step_ir = (EXAMPLES.parent / "out" / f"{name}_ir" / "tg.mlir").read_text()
    assert step_ir.count("func.func") == 1 and '"tg.sqrt"' in step_ir and step_ir.count('"tg.dot_general"') >= 3


def test_the_mlp_demo_trains_with_target_cuda(emulated_gpu, capsys):
    """`digits_mlp.py --target cuda`, on the CPU emulator of the driver: a few epochs."""
    accuracy = __import__("digits_mlp").main(epochs=3, quiet=True, target="cuda")
    out = capsys.readouterr().out
    assert accuracy >= 0.9, out
    assert "digits_mlp (cuda)" in out and any(name == "tg_kernel_0" for name, _, _ in emulated_gpu.launches)


def test_the_mlp_demo_trains_in_bf16(capsys):
    """`digits_mlp.py --precision bf16`: bf16 matmuls summing in f32, f32 master weights."""
    accuracy = __import__("digits_mlp").main(quiet=True, precision="bf16")
    out = capsys.readouterr().out
    assert accuracy >= 0.95, out
    step_ir = (EXAMPLES.parent / "out" / "digits_mlp_bf16_ir" / "tg.mlir").read_text()
    assert step_ir.count("preferred_element_type = f32") == 2 and "xbf16>" in step_ir
