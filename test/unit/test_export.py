"""tg.export writes a shared library, a C header and a manifest; tgraph.runtime.load runs them in
a process where the MLIR bindings cannot be imported; a C program calls them; a CPU without the
features the code was compiled for is refused."""

import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tgraph as tg
from tgraph.backends.cache import linker

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "export_c"
sys.path.insert(0, str(EXAMPLE))
PYTHON_PATH = str(pathlib.Path(__file__).parents[2] / "python")

# Run first in the child processes: importing the MLIR bindings fails there.
WITHOUT_MLIR = textwrap.dedent("""
    import sys
    class NoMLIR:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch_mlir", "mlir"):
                raise ImportError(f"{name} is not importable in this test")
    sys.meta_path.insert(0, NoMLIR())
    """)


def run_without_mlir(code, tmp_path):
    """Run `code` in a new Python whose MLIR bindings cannot be imported; its stdout as JSON."""
    script = tmp_path / "child.py"
    script.write_text(WITHOUT_MLIR + textwrap.dedent(code) + textwrap.dedent("""
        assert not [m for m in sys.modules if m.split(".")[0] in ("torch_mlir", "mlir")], "MLIR was imported"
        """))
    env = dict(os.environ, PYTHONPATH=PYTHON_PATH)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def mlp_loss(params, x, y):
    hidden = tg.tanh(x @ params["w1"] + params["b1"])
    return tg.mean((hidden @ params["w2"] + params["b2"] - y) ** 2)


@pytest.fixture(scope="module")
def mlp():
    import model  # examples/export_c/model.py

    return model.compiled(), model.example_inputs()


def test_export_writes_library_header_and_manifest(mlp, tmp_path):
    compiled, (params, x, y) = mlp
    manifest = tg.export(compiled, tmp_path, name="mlp")
    assert sorted(os.listdir(tmp_path)) == ["libmlp.so", "manifest.json", "mlp.h"]
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    assert list(manifest["entries"]) == ["forward", "jvp", "grad", "vjp", "value_and_grad"]
    assert manifest["tgraph_version"] == tg.__version__ and manifest["mlir"]["package"]
    assert manifest["arg_names"] == ["params", "x", "y"] and manifest["wrt"] == [0, 1, 2, 3]
    assert manifest["input_tree"] == {"list": [{"dict": [["b1", "*"], ["b2", "*"], ["w1", "*"], ["w2", "*"]]}, "*", "*"]}
    from tgraph.support.target import host_cpu

    assert set(manifest["target"]["features"]) <= host_cpu()[1]
    header = (tmp_path / "mlp.h").read_text()
    assert ("void mlp_value_and_grad(const float *params_b1, const float *params_b2, const float *params_w1, "
            "const float *params_w2, const float *x, const float *y, float *value, float *grad_params_b1, "
            "float *grad_params_b2, float *grad_params_w1, float *grad_params_w2);") in header
    assert "#define MLP_VALUE_AND_GRAD_INPUT2_SHAPE {4, 16}" in header
    assert "#define MLP_JVP_NUM_INPUTS 10" in header
    # The header compiles as C and as C++ (no warnings), and declares what the library defines.
    if linker():
        for flags in (["-x", "c", "-std=c99"], ["-x", "c++"]):
            done = subprocess.run([linker(), *flags, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-"],
                                  input='#include "mlp.h"\n', text=True, capture_output=True, cwd=tmp_path)
            assert done.returncode == 0 or "c++" in flags and "error trying to exec" in done.stderr, done.stderr


def test_loaded_artifact_runs_without_mlir(mlp, tmp_path):
    compiled, (params, x, y) = mlp
    tg.export(compiled, tmp_path / "art", name="mlp")
    value, grads = compiled.value_and_grad(params, x, y)
    dparams = {k: np.full_like(v, 0.5) for k, v in params.items()}
    y_jvp, dy = compiled.jvp((params, x, y), (dparams,))
    result = run_without_mlir(f"""
        import json, numpy as np
        import tgraph.runtime
        sys.path.insert(0, {str(EXAMPLE)!r})
        from model import example_inputs  # imports tgraph, which does not load MLIR either
        params, x, y = example_inputs()
        loaded = tgraph.runtime.load({str(tmp_path / "art")!r})
        value, grads = loaded.value_and_grad(params, x, y)
        dparams = {{k: np.full_like(v, 0.5) for k, v in params.items()}}
        errors = {{}}
        for label, call in (("short", lambda: loaded.forward(params, x)),
                            ("shape", lambda: loaded.forward(params, x[:5], y))):
            try:
                call()
            except tgraph.TGraphError as err:
                errors[label] = str(err)
        print(json.dumps({{"forward": loaded.forward(params, x, y), "value": value,
                          "grads": {{k: v.tolist() for k, v in grads[0].items()}},
                          "jvp": loaded.jvp((params, x, y), (dparams,)),
                          "seeded": loaded.backward_with_seed((params, x, y), np.float32(2.0))[0]["b2"].tolist(),
                          "repr": repr(loaded), "errors": errors}}))
        """, tmp_path)
    assert result["forward"] == pytest.approx(value, rel=1e-6)
    assert result["value"] == pytest.approx(value, rel=1e-6)
    for k, g in grads[0].items():
        np.testing.assert_allclose(result["grads"][k], g, rtol=1e-5, atol=1e-7)
    assert result["jvp"] == pytest.approx([y_jvp, dy], rel=1e-5)
    np.testing.assert_allclose(result["seeded"], 2 * grads[0]["b2"], rtol=1e-5)
    assert "entries: forward, jvp, grad, vjp, value_and_grad" in result["repr"]
    # the compiled object's argument checks, word for word
    assert "the arguments have the structure" in result["errors"]["short"]
    assert "input 4 ('x')" in result["errors"]["shape"]


def test_exported_train_step_donates_and_matches_jit(tmp_path):
    """A whole Adam train step (dict parameters, namedtuple state), exported with its donated
    arguments: loaded without MLIR, three steps equal tgraph.jit's and update the arrays in place."""
    optimizer = tg.optim.adam(1e-2)

    @tg.jit(donate_argnums=(0, 1))
    def step(params, state, x, y):
        loss, grads = tg.value_and_grad(mlp_loss)(params, x, y)
        updates, state = optimizer.update(grads, state, params)
        return tg.optim.apply_updates(params, updates), state, loss

    import model

    params, x, y = model.example_inputs()
    state = optimizer.init(params)
    manifest = tg.export(step, tmp_path / "step", example_args=(params, state, x, y), entries="forward")
    assert list(manifest["entries"]) == ["forward"] and len(manifest["entries"]["forward"]["donated"]) == 13
    header = (tmp_path / "step" / "step.h").read_text()
    assert "void step_forward(float *params_b1," in header and "const float *x, const float *y, float *out_2);" in header
    np.savez(tmp_path / "start.npz", *tg.tree_leaves((params, state)))  # a checkpoint of the start
    losses = []
    for _ in range(3):
        params, state, loss = step(params, state, x, y)
        losses.append(float(loss))
    result = run_without_mlir(f"""
        import json, numpy as np
        import tgraph.runtime
        sys.path.insert(0, {str(EXAMPLE)!r})
        from model import example_inputs
        start = np.load({str(tmp_path / "start.npz")!r})
        _, x, y = example_inputs()
        step = tgraph.runtime.load({str(tmp_path / "step")!r})
        params, state, _, _ = step.arguments([start[k] for k in start.files] + [x, y])
        w1, losses = params["w1"], []
        for _ in range(3):
            params, state, loss = step(params, state, x, y)
            losses.append(float(loss))
        try:
            step.jvp((params, state, x, y), ())
        except tgraph.TGraphError as err:
            missing = str(err)
        print(json.dumps({{"losses": losses, "in_place": params["w1"] is w1, "w1": params["w1"].tolist(),
                          "count": int(state[0].count), "missing": missing}}))
        """, tmp_path)
    assert result["losses"] == pytest.approx(losses, rel=1e-6)
    np.testing.assert_allclose(result["w1"], params["w1"], rtol=1e-6, atol=1e-7)
    assert result["in_place"] and result["count"] == 3
    assert "the entry point 'jvp' was not exported (this artifact has forward)" in result["missing"]


@pytest.mark.skipif(linker() is None, reason="no C compiler (cc, gcc or clang) to build the C example")
def test_c_example_prints_what_python_computes(mlp, tmp_path):
    compiled, (params, x, y) = mlp
    done = subprocess.run([sys.executable, str(EXAMPLE / "model.py"), str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=PYTHON_PATH))
    assert done.returncode == 0, done.stderr
    binary = tmp_path / "main"
    build = [linker(), "-O2", "-Wall", "-Wextra", "-Werror", "-I", str(tmp_path), str(EXAMPLE / "main.c"),
             "-L", str(tmp_path), "-lmlp", f"-Wl,-rpath,{tmp_path}", "-lm", "-o", str(binary)]
    done = subprocess.run(build, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60, check=True).stdout
    printed = {line.split()[0] + (line.split()[1] if line.startswith("step") else ""): [float(v) for v in
               line.split()[1 if not line.startswith("step") else 3:]] for line in out.splitlines()}
    value, grads = compiled.value_and_grad(params, x, y)
    assert printed["forward"] == pytest.approx([value], rel=1e-6)
    assert printed["value"] == pytest.approx([value], rel=1e-6)
    assert printed["grad_b2"] == pytest.approx(grads[0]["b2"].tolist(), rel=1e-5)
    assert printed["grad_w1[0,0]"] == pytest.approx([grads[0]["w1"][0, 0]], rel=1e-4, abs=1e-8)
    for step in range(5):  # main.c's gradient descent, in Python
        value, grads = compiled.value_and_grad(params, x, y)
        assert printed[f"step{step}"] == pytest.approx([value], rel=1e-5)
        params = {k: (p - np.float32(0.5) * grads[0][k]).astype(np.float32) for k, p in params.items()}


def test_a_cpu_without_the_features_is_refused(mlp, tmp_path, monkeypatch):
    compiled, (params, x, y) = mlp
    tg.export(compiled, tmp_path, name="mlp", entries=["forward"])
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert tg.runtime.load(tmp_path).forward(params, x, y) == pytest.approx(compiled.forward(params, x, y), rel=1e-6)

    from tgraph.support import target

    # This CPU, less one feature the code needs (or, without any, a feature the manifest claims).
    needed = manifest["target"]["features"]
    if needed:
        model, flags = target.host_cpu()
        monkeypatch.setattr(target, "host_cpu", lambda: (model, flags - {needed[-1]}))
        monkeypatch.setattr(tg.runtime, "host_cpu", target.host_cpu)
        missing = needed[-1]
    else:
        missing = "avx512f"
        manifest["target"]["features"] = [missing]
        manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(tg.TGraphError, match=rf"compiled for a CPU with {missing} .*this CPU .* lacks them"):
        tg.runtime.load(tmp_path)
    monkeypatch.undo()
    manifest["target"]["machine"] = "riscv64"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(tg.TGraphError, match="mlp was compiled for riscv64; this machine is"):
        tg.runtime.load(tmp_path)


def test_export_misuse_is_a_clear_error_and_keeps_files(mlp, tmp_path):
    compiled, (params, x, y) = mlp
    mine = tmp_path / "mlp.h"
    mine.write_text("my own header\n")
    with pytest.raises(tg.TGraphError, match=r"already has mlp.h, not from a tgraph export"):
        tg.export(compiled, tmp_path, name="mlp")
    assert mine.read_text() == "my own header\n" and sorted(os.listdir(tmp_path)) == ["mlp.h"]
    with pytest.raises(tg.TGraphError, match=r"name='my-model' must be a C identifier"):
        tg.export(compiled, tmp_path / "a", name="my-model")
    with pytest.raises(tg.TGraphError, match=r"unknown entry point 'hessian'; this object has forward, jvp"):
        tg.export(compiled, tmp_path / "a", entries=["hessian"])
    with pytest.raises(tg.TGraphError, match=r"needs example_args"):
        tg.export(tg.jit(mlp_loss), tmp_path / "a")
    with pytest.raises(tg.TGraphTypeError, match=r"needs a CompiledScalar, a CompiledOut or a @tgraph.jit"):
        tg.export(mlp_loss, tmp_path / "a")
    on_gpu = tg.compile_scalar(mlp_loss, [{"b1": tg.f32[2], "b2": tg.f32[1], "w1": tg.f32[3, 2], "w2": tg.f32[2, 1]},
                                          tg.f32[4, 3], tg.f32[4, 1]], target="cuda")
    with pytest.raises(tg.TGraphError, match=r"export writes CPU code; this object targets 'cuda'"):
        tg.export(on_gpu, tmp_path / "a")
    with pytest.raises(tg.TGraphError, match=r"has no manifest.json: not a directory tgraph.export wrote"):
        tg.runtime.load(tmp_path)
    # An earlier export of the same name is replaced.
    tg.export(compiled, tmp_path / "b", name="mlp", entries=["forward"])
    tg.export(compiled, tmp_path / "b", name="mlp", entries=["grad"])
    assert list(tg.runtime.load(tmp_path / "b").entries) == ["grad"]
    assert not [f for f in os.listdir(tmp_path / "b") if f.startswith(".")]  # no scratch left behind


def test_c_names_of_pytree_leaves_are_distinct_identifiers(tmp_path):
    def f(a, b):
        return {"sum": a["x-y"] + a["x_y"], "d": b[0] * 2.0}

    compiled = tg.compile_out(f, [{"x-y": tg.f32[2], "x_y": tg.f32[2]}, [tg.f64[3]]])
    manifest = tg.export(compiled, tmp_path, name="pair", entries=["forward", "vjp"])
    names = [a["name"] for a in manifest["entries"]["vjp"]["inputs"] + manifest["entries"]["vjp"]["outputs"]]
    assert names == ["a_x_y", "a_x_y_1", "b_0", "seed_out_d", "seed_out_sum", "grad_a_x_y", "grad_a_x_y_1", "grad_b_0"]
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)
    loaded = tg.runtime.load(tmp_path)
    args = ({"x-y": np.ones(2, np.float32), "x_y": np.full(2, 2.0, np.float32)}, [np.arange(3.0)])
    out = loaded.forward(*args)
    assert out["sum"].tolist() == [3.0, 3.0] and out["d"].tolist() == [0.0, 2.0, 4.0]
