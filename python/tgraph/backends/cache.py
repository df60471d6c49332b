"""The on-disk cache of compiled entry points: one shared library per (graph, entry point,
options, host, versions), so that a new process skips differentiation, the MLIR pipeline and
LLVM code generation; for the GPU, a JSON description of the CudaExecutable (its PTX, LLVM IR,
specs and launch plan; see CudaExecutable.to_json). In ~/.cache/tgraph, or TGRAPH_CACHE_DIR;
TGRAPH_CACHE_DIR="" turns it off.

The cache knows files, not executables: each backend brings its codec (backends.cpu.CpuBackend,
backends.cuda.CudaBackend: `load_cached`, `store_cached`) and stores through the functions below.

A cached library is code this process runs, so the cache is the user's alone. The directory is
created 0700; an existing one that is not owned by the user, or is writable by group or others,
is not used at all (nothing loaded, nothing stored; one warning says how to fix it). Entries are
written 0600 (.json) and 0700 (.so); an entry that is not a regular file (a symlink is not
followed), not owned by the user or writable by group or others is refused like a damaged one:
removed, compiled again and rewritten. Nothing in the cache is unpickled: the GPU entries are
data, checked field by field when read.

Writers build each entry in a private temporary file and rename it into place (atomic), so
concurrent writers and readers never see a partial file; an entry that fails to load is removed
and compiled again. Needs a C compiler driver (cc, gcc or clang) to link the JIT's object code;
without one, nothing is cached for the CPU."""

import functools
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import tempfile
import warnings


FORMAT = 3  # bump when what is cached, or how, changes


def cache_dir():
    value = os.environ.get("TGRAPH_CACHE_DIR")
    if value is not None:
        return value or None
    return os.path.join(os.path.expanduser("~"), ".cache", "tgraph")


@functools.lru_cache(maxsize=None)
def linker():
    return next((path for path in map(shutil.which, ("cc", "gcc", "clang")) if path), None)


@functools.lru_cache(maxsize=None)
def compiler_fingerprint():
    """A hash of tgraph's own compiler (dialect, passes, lowering, backend): entries written by
    another version of the code are never reused."""
    import tgraph
    import tgraph.dialect
    import tgraph.passes

    digest = hashlib.sha256()
    for package in (tgraph.dialect, tgraph.passes, tgraph):
        root = os.path.dirname(package.__file__)
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(f for f in files if f.endswith(".py")):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(name.encode() + f.read())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def host_fingerprint():
    """What the object code depends on besides the IR: the CPU, tgraph's compiler and the MLIR build."""
    from ..support import mlir

    try:
        with open("/proc/cpuinfo") as f:
            cpu = [line for line in f if line.startswith(("model name", "flags"))][:2]
    except OSError:
        cpu = [platform.processor()]
    bindings = os.path.dirname(mlir.ir.__file__)
    native = sorted((name, os.path.getsize(os.path.join(bindings, name))) for name in os.listdir(bindings)
                    if name.endswith(".so"))
    return [FORMAT, platform.machine(), platform.system(), cpu, native, compiler_fingerprint()]


def key(graph_text, entry, wrt, options):
    """`options`: what else the code depends on (the CPU's thread count, the GPU's sm)."""
    blob = json.dumps([graph_text, entry, list(wrt), options, host_fingerprint()])
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def untrusted(st):
    """Why a file or directory with stat result `st` must not be trusted with code this process
    runs, or None: someone else owns it, or someone else may write it."""
    if st.st_uid != os.getuid():
        return "is not owned by you"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by group or others"
    return None


@functools.lru_cache(maxsize=None)  # once per directory and process
def _warn_unsafe(folder, problem):
    warnings.warn(f"tgraph: not using the cache directory {folder}: it {problem}. Make it yours alone "
                  f"(chmod 700 {folder}, and chown it if another user owns it) or set TGRAPH_CACHE_DIR "
                  "to another directory")


def usable_dir(create=False):
    """The cache directory if it may be used (made 0700 first when `create`), else None."""
    folder = cache_dir()
    if not folder:
        return None
    try:
        if create:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)  # through a symlink: what matters is the directory the entries are in
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    problem = untrusted(st)
    if problem:
        _warn_unsafe(folder, problem)
        return None
    return folder


def _discard(path):
    """Remove whatever is at `path` (a file, a symlink, a directory of the user's) so that it can
    be written again; another user's directory stays, and that entry is then never stored."""
    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            if st.st_uid == os.getuid():
                shutil.rmtree(path)
        else:
            os.remove(path)  # a symlink itself, never what it points at
    except OSError:
        pass


def _trusted_file(st):
    return stat.S_ISREG(st.st_mode) and untrusted(st) is None


def _library_ok(path):
    """Whether a trusted regular file is at `path`; if something else is there, it is removed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        st = None
    if st is None or not _trusted_file(st):
        _discard(path)
        return False
    return True


def _read_entry(path):
    """The bytes of the trusted regular file at `path`, or None (missing, or refused: then removed)."""
    try:
        # O_NOFOLLOW: a symlink is refused, not followed; O_NONBLOCK: a FIFO does not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError:
        _discard(path)
        return None
    try:
        if not _trusted_file(os.fstat(fd)):
            raise OSError("not a trusted cache entry")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError:
        _discard(path)
        return None
    finally:
        os.close(fd)


def _write_new(path, text):
    """Write `text` to the new file `path`, readable and writable by the user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def load_library(digest):
    """(path of the cached shared library, its metadata as parsed JSON) under `digest`, or None
    (missing or refused: then removed). A caller that cannot load them calls `discard_library`."""
    folder = usable_dir()
    if not folder:
        return None
    library, meta = os.path.join(folder, digest + ".so"), os.path.join(folder, digest + ".json")
    text = _read_entry(meta)
    # The library is checked (and, if refused, removed) even without its metadata, so that what
    # store must replace is gone.
    if not _library_ok(library) or text is None:
        return None
    try:
        # The directory is the user's alone, so the path still names the file just checked.
        return library, json.loads(text)
    except ValueError:
        discard_library(digest)
        return None


def discard_library(digest):
    folder = usable_dir()
    if folder:
        _remove(os.path.join(folder, digest + ".so"), os.path.join(folder, digest + ".json"))


def store_library(digest, save, metadata):
    """Store a shared library written by `save(path, linker)` and its metadata (JSON-ready)
    under `digest`; quietly does nothing when it cannot."""
    if linker() is None:
        return
    folder = usable_dir(create=True)
    if not folder:
        return
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".tmp-") as scratch:  # made 0700
            library = os.path.join(scratch, "entry.so")
            save(library, linker())
            os.chmod(library, 0o700)  # the linker made it as the umask allows
            meta = os.path.join(scratch, "entry.json")
            _write_new(meta, json.dumps(metadata))
            # The library first: a reader needs both, and checks for the metadata second.
            os.replace(library, os.path.join(folder, digest + ".so"))
            os.replace(meta, os.path.join(folder, digest + ".json"))
    except (OSError, RuntimeError, subprocess.SubprocessError):  # a cache that cannot be written is only slower
        return


def _remove(*paths):
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def load_document(digest, suffix):
    """The parsed JSON document stored under `digest` + `suffix`, or None (missing, refused or not
    JSON: then removed). A caller that cannot use it calls `discard_document`."""
    folder = usable_dir()
    if not folder:
        return None
    text = _read_entry(os.path.join(folder, digest + suffix))
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # damaged: compiled again
        discard_document(digest, suffix)
        return None


def discard_document(digest, suffix):
    folder = usable_dir()
    if folder:
        _remove(os.path.join(folder, digest + suffix))


def store_document(digest, suffix, document):
    """Store a JSON-ready document under `digest` + `suffix`; quietly does nothing when it cannot."""
    folder = usable_dir(create=True)
    if not folder:
        return
    scratch = None
    try:
        text = json.dumps(document)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".tmp-", delete=False) as f:  # made 0600
            scratch = f.name
            f.write(text)
        os.replace(scratch, os.path.join(folder, digest + suffix))
    except (OSError, TypeError, ValueError):  # a cache that cannot be written is only slower
        if scratch:
            _remove(scratch)
