"""MPI collectives and data parallel (tgraph.distributed).

In this process (one rank): each collective is the identity, interpreted and compiled, with its
derivatives and batching; misuse is a TGraphError. Under `mpiexec -n 2` (new processes, shared
memory, bounded by a timeout that kills the whole group): every collective against its meaning
over all ranks' data (mpi/collectives_check.py) and the data-parallel digits example against one
process on the whole batches. Skipped, with the reason, only without the distributed extra."""

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import tgraph as tg
from tgraph import distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT_S = 240
COLLECTIVES = {
    "all_reduce sum": lambda x: dist.all_reduce(x, "sum"),
    "all_reduce mean": lambda x: dist.all_reduce(x, "mean"),
    "all_reduce max": lambda x: dist.all_reduce(x, "max"),
    "all_gather": lambda x: dist.all_gather(x, axis=1),
    "reduce_scatter": lambda x: dist.reduce_scatter(x, axis=0),
    "broadcast": lambda x: dist.broadcast(x, root=0),
}


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("the distributed extra is not installed: pip install -e '.[distributed]'")
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec: pip install -e '.[distributed]' (the mpich wheel brings it)")
    return found


def run_ranks(n, *args, timeout=TIMEOUT_S):
    """`mpiexec -n n python args...`: (exit code, output), or None for the code when it ran past
    `timeout`: the process group (mpiexec and the ranks) is then killed, never left running."""
    env = dict(os.environ, TGRAPH_NUM_THREADS="1", TGRAPH_CACHE_DIR="", PYTHONPATH=os.pathsep.join(
        [os.path.join(ROOT, "examples"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([_mpiexec(), "-n", str(n), sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return None, output
    return proc.returncode, output


def run_ok(n, *args):
    code, output = run_ranks(n, *args)
    assert code is not None, f"mpiexec -n {n} {' '.join(args)} did not finish in {TIMEOUT_S} s:\n{output}"
    assert code == 0, output
    return output


# ----------------------------------------------------------------------------- one process
@pytest.mark.parametrize("name", list(COLLECTIVES))
def test_one_process_collective_is_the_identity(name):
    fn = COLLECTIVES[name]
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert dist.size() == 1 and dist.rank() == 0
    np.testing.assert_array_equal(tg.interpret(tg.trace(fn, [x]), x), x)
    np.testing.assert_array_equal(tg.jit(fn)(x), x)
    seed, t = np.ones_like(x) * 2.0, np.full_like(x, 3.0)
    np.testing.assert_array_equal(tg.grad(lambda v: tg.sum(seed * fn(v) ** 2))(x), 4.0 * x)
    np.testing.assert_array_equal(tg.jvp(fn)(x, t)[1], t)
    np.testing.assert_array_equal(tg.vmap(fn)(np.stack([x, -x])), np.stack([x, -x]))


WITHOUT_MPI = """
import sys
class NoMPI:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "mpi4py":
            raise ImportError(f"{name} is not importable in this test")
sys.meta_path.insert(0, NoMPI())
import numpy as np
import tgraph as tg
from tgraph import distributed as d
x = np.arange(3.0)
print(d.rank(), d.size())
print(tg.jit(lambda v: d.all_reduce(v, "mean") * 2)(x))
print(tg.grad(lambda v: tg.sum(d.all_gather(v) ** 2))(x))
print("mpi4py" in sys.modules)
"""


def test_without_the_distributed_extra_one_process_still_runs_collectives(tmp_path):
    """No mpi4py: tgraph imports, the process is rank 0 of 1, and collectives (the identity there)
    trace, differentiate and compile."""
    script = tmp_path / "child.py"
    script.write_text(WITHOUT_MPI)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=dict(os.environ, TGRAPH_CACHE_DIR=""))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["0 1", "[0. 2. 4.]", "[0. 2. 4.]", "False"], done.stdout


def test_collective_ops_print_with_their_ranks():
    graph = tg.trace(lambda x: dist.all_gather(dist.all_reduce(x, "mean"), axis=0), [tg.f32[2, 3]])
    text = graph.ir()
    assert 'tg.all_reduce' in text and 'op = "mean"' in text and "ranks = 1" in text
    assert "tg.all_gather" in text


def test_average_is_one_bucket_and_keeps_structure():
    def fn(params):
        return dist.average({"w": params["w"] * 2, "b": params["b"], "n": params["n"]})
    params = {"w": np.ones((2, 3)), "b": np.arange(3.0), "n": np.int32(4)}
    graph = tg.trace(fn, [params])
    assert graph.ir().count("tg.all_reduce") == 1  # the f64 leaves share one bucket; the integer stays out
    out = tg.jit(fn)(params)
    np.testing.assert_array_equal(out["w"], 2 * params["w"])
    np.testing.assert_array_equal(out["b"], params["b"])
    assert int(out["n"]) == 4


@pytest.mark.parametrize("call, message", [
    (lambda x: dist.all_reduce(x, "prod"), "op must be one of sum, mean, max, min"),
    (lambda x: dist.all_gather(x, axis=2), "axis 2 is out of range"),
    (lambda x: dist.all_reduce(x.astype(tg.bf16)), "collectives take f32, f64, i32, i64, got bf16"),
    (lambda x: dist.broadcast(x, root=3), "root 3 is not a rank of 1 processes"),
])
def test_misuse_is_a_clear_error(call, message):
    with pytest.raises(tg.TGraphError, match=message):
        tg.trace(call, [tg.f32[2, 3]])


def test_spmd_on_one_process_and_its_errors():
    def row_parallel(a, b):
        a, b = dist.shard(a, (1,), (-1, 0)), dist.shard(b, (1,), (0, -1))
        return dist.shard(a @ b, (1,), (-1, -1))
    a, b = np.ones((2, 3)), np.full((3, 2), 2.0)
    f = dist.spmd(row_parallel, [tg.f64[2, 3], tg.f64[3, 2]])
    np.testing.assert_array_equal(f(a, b), a @ b)
    assert "per process: (tensor<2x3xf64>, tensor<3x2xf64>) -> tensor<2x2xf64>" in repr(f)
    with pytest.raises(tg.TGraphError, match=r"input 0 \(tensor<2x3xf64>\) is not annotated"):
        dist.spmd(lambda a, b: dist.shard(a @ b, (1,), (-1, -1)), [tg.f64[2, 3], tg.f64[3, 2]])
    with pytest.raises(tg.TGraphError, match="result 0 .* is not annotated"):
        dist.spmd(lambda a: dist.shard(a, (1,), (-1,)) * 2, [tg.f64[2]])
    with pytest.raises(tg.TGraphError, match=r"the grid \[2\] has 2 processes but this run has 1"):
        dist.spmd(lambda a: dist.shard(a, (2,), (0,)), [tg.f64[2]])
    with pytest.raises(tg.TGraphError, match="tg.shard over a grid of 2 processes .* compile the function with "
                                             "tg.distributed.spmd"):
        tg.jit(lambda a: dist.shard(a, (2,), (0,)) * 2)(np.ones(4))
    np.testing.assert_array_equal(tg.jit(lambda a: dist.shard(a, (1,), (0,)) * a)(np.full(4, 3.0)), np.full(4, 9.0))
    with pytest.raises(tg.TGraphError, match="dimension 0 of tensor<3xf64> does not split into 2 equal blocks"):
        tg.trace(lambda a: dist.shard(a, (2,), (0,)), [tg.f64[3]])


def test_a_graph_built_for_other_ranks_is_refused():
    text = tg.trace(lambda x: dist.all_reduce(x), [tg.f32[2]]).ir().replace("ranks = 1", "ranks = 2")
    from tgraph.support.mlir import ir
    with tg.dialect.context():
        module = ir.Module.parse(text)
    with pytest.raises(tg.TGraphError, match="built for 2 processes but this run has 1"):
        tg.interpret(module, np.ones(2, np.float32))


def test_collectives_are_refused_on_the_gpu_and_in_an_export(tmp_path, emulated_gpu):
    fn = tg.jit(lambda x: dist.all_reduce(x), target="cuda")
    with pytest.raises(tg.TGraphError, match="collectives run on the CPU target only"):
        fn(np.ones(3, np.float32))
    compiled = tg.compile_out(lambda x: dist.all_reduce(x) * 2, [tg.f32[3]])
    with pytest.raises(tg.TGraphError, match="collectives run on the CPU target only, not on an exported library"):
        tg.export(compiled, tmp_path / "out")


# ----------------------------------------------------------------------------- two processes
def test_collectives_on_two_processes():
    output = run_ok(2, os.path.join(HERE, "mpi", "collectives_check.py"))
    for rank in (0, 1):
        assert f"rank {rank}: all checks passed on 2 processes" in output, output


def test_data_parallel_digits_equals_one_process_on_the_whole_batch():
    output = run_ok(2, os.path.join(ROOT, "examples", "digits_data_parallel.py"), "--check", "--steps", "30")
    line = next(l for l in output.splitlines() if l.startswith("largest difference"))
    assert float(line.rsplit(" ", 1)[1]) <= 1e-10, output


def test_tensor_parallel_programs_through_the_shard_passes_on_two_processes():
    output = run_ok(2, os.path.join(HERE, "mpi", "spmd_check.py"))
    for rank in (0, 1):
        assert f"rank {rank}: spmd checks passed on 2 processes" in output, output


def test_a_rank_that_raises_takes_the_others_down(tmp_path):
    """Rank 1 raises before the collective rank 0 waits in: tgraph.distributed aborts the world,
    so the run ends at once with an error, rank 1's traceback in the output."""
    script = tmp_path / "fail.py"
    script.write_text("import numpy as np\nimport tgraph as tg\nfrom tgraph import distributed as d\n"
                      "if d.rank() == 1:\n    raise RuntimeError('rank 1 failed here')\n"
                      "print(tg.jit(lambda x: d.all_reduce(x))(np.ones(4, np.float32)))\n")
    code, output = run_ranks(2, str(script), timeout=60)
    assert code not in (None, 0), output
    assert "rank 1 failed here" in output


def test_a_hanging_rank_is_killed_at_the_timeout(tmp_path):
    """A rank that never reaches the collective: the helper kills mpiexec and every rank at its
    timeout (the test's own bound), and reports it as such."""
    script = tmp_path / "hang.py"
    script.write_text("import time\nimport numpy as np\nimport tgraph as tg\nfrom tgraph import distributed as d\n"
                      "if d.rank() == 1:\n    time.sleep(600)\n"
                      "print(tg.jit(lambda x: d.all_reduce(x))(np.ones(4, np.float32)))\n")
    code, output = run_ranks(2, str(script), timeout=15)
    assert code is None
