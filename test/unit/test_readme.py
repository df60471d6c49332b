"""The README's example runs as written."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).parents[2] / "README.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


def test_readme_example_runs(capsys):
    exec(compile(blocks("python")[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "func.func @loss" in out and '"tg.dot_general"' in out
    assert float(out.strip().splitlines()[-1]) > 0


def test_readme_derivatives_example_prints_the_ir_shown(capsys):
    exec(compile(blocks("python")[1], "README.md", "exec"), {})
    out = capsys.readouterr().out
    shown = next(b for b in blocks("mlir") if "@loss_grad" in b)
    assert shown.strip() in out  # the README shows exactly what the adjoint pass writes
    assert "7.321" in out


def test_readme_control_flow_example_runs(capsys):
    exec(compile(blocks("python")[2], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith("(16, 16) (8, 16) (None, None)")
    got, want = (np.array(line.strip("[]").split("] [")[i].split(), float) for i in range(2) for line in lines[1:2])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.array(lines[2].strip("[]").split(), float), np.exp([0.5, 1.0]), rtol=1e-8)


def test_readme_pytree_example_runs(capsys):
    exec(compile(blocks("python")[3], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["['h', 'loss'] (4, 2)", "{'loss': (), 'h': (4, 2)}"]


def test_readme_transforms_example_runs(capsys):
    exec(compile(blocks("python")[4], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "{'w': (8, 4, 3), 'b': (8, 3)}"
    a, b = map(float, lines[2].split())
    assert abs(a - b) < 1e-12


def test_readme_custom_rules_example_runs(capsys):
    exec(compile(blocks("python")[5], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "[1. 1.]" and lines[1] == "[1.]" and lines[3] == "True" and lines[4] == "[0.5 0.5]"
    x = np.array([0.1, 0.2])
    assert np.allclose([float(v) for v in lines[2].strip("[]").split()], 2 * np.cos(x) - x * np.sin(x), atol=1e-6)


def test_readme_compiled_example_runs(capsys):
    exec(compile(blocks("python")[6], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "(64, 10) output 0: max |compiled - interpreter|" in out and "linalg.generic and" in out


def test_readme_optimizer_example_runs(capsys):
    exec(compile(blocks("python")[8], "README.md", "exec"), {})
    out = capsys.readouterr().out.strip()
    assert out.startswith("[ 1.  -2.   0.5] [0.3]") and out.splitlines()[-1] == "True", out


def test_readme_misuse_example_runs(capsys):
    exec(compile(blocks("python")[7], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert abs(float(lines[0]) - np.log(4)) < 1e-6 and lines[1] == "nan"
    assert "input 1 ('labels') holds 4294967297, which does not fit in i32" in lines[2]


def test_readme_mixed_precision_example_runs(capsys):
    exec(compile(blocks("python")[9], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["bf16 float32 0.002", "f16 0.002 32768.0"]


def test_readme_export_example_runs(capsys):
    exec(compile(blocks("python")[10], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["['forward', 'grad', 'jvp', 'value_and_grad', 'vjp']", "True (3, 2)",
                     "(const float *w, const float *x, const float *y, float *value, float *grad_w)"]


def test_readme_from_jax_example_runs(capsys):
    exec(compile(blocks("python")[11], "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["[\"x0['b1']\", \"x0['w1']\", \"x0['w2']\", 'x1', 'x2']", "True"]
    assert "linalg.matmul" in "\n".join(lines[2:])


def test_readme_from_torch_example_runs(capsys):
    exec(compile(blocks("python")[12], "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["['0.weight', '0.bias', '2.weight', '2.bias', 'input0']", "True"]
    assert '"tg.dot_general"' in "\n".join(lines[2:])


def test_readme_data_parallel_example_runs(capsys):
    exec(compile(blocks("python")[13], "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("0 1 ") and float(lines[0].split()[2]) < 1.5 and lines[1] == "1"


def test_readme_op_record_example_prints_what_is_shown(capsys):
    exec(compile(blocks("python")[14], "README.md", "exec"), {})
    assert capsys.readouterr().out == blocks("text")[0]
