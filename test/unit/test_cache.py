"""The on-disk cache: a second process loads the compiled entry point instead of compiling it;
corrupt entries are replaced; the cache can be turned off; it is the user's alone (made 0700 and
0600/0700, and an entry or directory that another user owns or may write is not trusted)."""

import os
import subprocess
import sys

import pytest

from tgraph import backends
from tgraph.backends import cache

pytestmark = pytest.mark.skipif(cache.linker() is None, reason="no C compiler driver to link cached libraries")

PROGRAM = """
import time, numpy as np, tgraph as tg
start = time.perf_counter()
step = tg.compile_scalar(lambda x, w: tg.sum(tg.tanh(x @ w)), [tg.f32[8, 4], tg.f32[4]])
value, grads = step.value_and_grad(np.ones((8, 4), np.float32), np.full(4, 0.5, np.float32))
print(round(value, 4), step._entries["value_and_grad"].loaded_from is not None, time.perf_counter() - start)
"""


def run(cache_dir):
    env = dict(os.environ, TGRAPH_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    value, loaded, seconds = done.stdout.split()
    return float(value), loaded == "True", float(seconds)


def test_a_second_process_loads_from_the_cache(tmp_path):
    first = run(tmp_path)
    assert not first[1] and any(p.suffix == ".so" for p in tmp_path.iterdir())
    second = run(tmp_path)
    assert second[1] and second[0] == first[0] == pytest.approx(8 * 0.9640, abs=1e-3)


def test_a_corrupt_entry_is_replaced(tmp_path):
    run(tmp_path)
    for library in tmp_path.glob("*.so"):
        library.write_bytes(b"not a shared library")
    value, loaded, _ = run(tmp_path)
    assert not loaded and value == pytest.approx(8 * 0.9640, abs=1e-3)
    assert run(tmp_path)[1]  # and the next process finds the rewritten entry


def test_an_empty_cache_dir_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TGRAPH_CACHE_DIR", "")
    assert cache.cache_dir() is None
    assert backends.get("cpu").load_cached("0" * 40) is None


# In-process checks of who may have written an entry: each compiles `step` with the cache in `folder`.
def step_in(folder, monkeypatch):
    """(value, whether the entry point came from the cache) of a fresh compiled object."""
    import numpy as np
    import tgraph as tg

    monkeypatch.setenv("TGRAPH_CACHE_DIR", str(folder))
    step = tg.compile_scalar(lambda x, w: tg.sum(tg.tanh(x @ w)), [tg.f32[8, 4], tg.f32[4]])
    value, _ = step.value_and_grad(np.ones((8, 4), np.float32), np.full(4, 0.5, np.float32))
    assert value == pytest.approx(8 * 0.9640, abs=1e-3)
    return step._entries["value_and_grad"].loaded_from is not None


def entry(folder, suffix):
    (path,) = folder.glob("*" + suffix)
    return path


def test_the_cache_is_private_to_the_user(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    assert not step_in(folder, monkeypatch)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert entry(folder, ".json").stat().st_mode & 0o777 == 0o600
    assert entry(folder, ".so").stat().st_mode & 0o777 == 0o700
    assert step_in(folder, monkeypatch)


def test_untrusted_names_what_is_wrong():
    def status(uid, mode):
        return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))

    me = os.getuid()
    assert cache.untrusted(status(me, 0o100600)) is None and cache.untrusted(status(me, 0o40755)) is None
    assert cache.untrusted(status(me + 1, 0o100600)) == "is not owned by you"
    assert cache.untrusted(status(me, 0o100620)) == cache.untrusted(status(me, 0o40777)) == \
        "is writable by group or others"


@pytest.mark.parametrize("suffix", [".so", ".json"])
def test_an_entry_of_another_user_is_refused_and_rebuilt(tmp_path, monkeypatch, suffix):
    step_in(tmp_path, monkeypatch)
    path = entry(tmp_path, suffix)
    os.utime(path, (0, 0))  # marks the one file "another user" owns; the directory stays the user's
    untrusted = cache.untrusted

    def owner_check(st):
        return "is not owned by you" if st.st_mtime == 0 else untrusted(st)

    monkeypatch.setattr(cache, "untrusted", owner_check)
    assert not step_in(tmp_path, monkeypatch)
    assert entry(tmp_path, suffix).stat().st_mtime != 0  # rewritten
    assert step_in(tmp_path, monkeypatch)


@pytest.mark.parametrize("suffix, mode", [(".so", 0o777), (".json", 0o666), (".json", 0o620)])
def test_an_entry_others_may_write_is_refused_and_rebuilt(tmp_path, monkeypatch, suffix, mode):
    step_in(tmp_path, monkeypatch)
    entry(tmp_path, suffix).chmod(mode)
    assert not step_in(tmp_path, monkeypatch)
    assert entry(tmp_path, suffix).stat().st_mode & 0o077 == 0
    assert step_in(tmp_path, monkeypatch)


def test_a_cache_dir_others_may_write_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    step_in(folder, monkeypatch)
    folder.chmod(0o777)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.warns(UserWarning, match=f"not using the cache directory {folder}: it is writable by group or "
                                         f"others. .*chmod 700 {folder}"):
        assert not step_in(folder, monkeypatch)
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing removed or stored
    assert not step_in(folder, monkeypatch)  # and once is enough: no second warning fails here
    folder.chmod(0o700)
    assert step_in(folder, monkeypatch)


def test_a_symlinked_entry_is_not_followed(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    step_in(folder, monkeypatch)
    library = entry(folder, ".so")
    elsewhere = tmp_path / "elsewhere.so"
    library.rename(elsewhere)
    library.symlink_to(elsewhere)
    assert not step_in(folder, monkeypatch)  # the library elsewhere was not loaded
    assert not library.is_symlink() and library.is_file() and elsewhere.is_file()
    assert step_in(folder, monkeypatch)


@pytest.mark.parametrize("suffix", [".so", ".json"])
def test_an_entry_that_is_a_directory_is_replaced(tmp_path, monkeypatch, suffix):
    step_in(tmp_path, monkeypatch)
    path = entry(tmp_path, suffix)
    path.unlink()
    (path / "inside").mkdir(parents=True)
    assert not step_in(tmp_path, monkeypatch)
    assert path.is_file()
    assert step_in(tmp_path, monkeypatch)
