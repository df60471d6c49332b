"""TGraphError, and raising it from the user's line rather than from tgraph's internals."""

import functools
import os
import sys
import types

_PACKAGE_DIRS = None


def _package_dirs():
    """tgraph's source folders (python/tgraph, dialect/, passes/), found without importing them."""
    global _PACKAGE_DIRS
    if _PACKAGE_DIRS is None:
        import importlib.util

        _PACKAGE_DIRS = tuple(
            os.path.dirname(os.path.abspath(importlib.util.find_spec(name).origin)) + os.sep
            for name in ("tgraph", "tgraph.dialect", "tgraph.passes")
        )
    return _PACKAGE_DIRS


class TGraphError(ValueError):
    """A misuse of tgraph: the message names what was wrong and how to fix it."""


class TGraphTypeError(TGraphError, TypeError):
    """A misuse about types: element types, or something that is not a tensor."""


def is_internal(filename):
    return os.path.abspath(filename).startswith(_package_dirs())


def user_frame():
    """The innermost frame outside tgraph: where the user's code called us."""
    frame = sys._getframe(1)
    while frame is not None and is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def frame_position(frame):
    """(file, line, column) of the instruction a frame is executing; column is 1-based."""
    line, col = frame.f_lineno, 1
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        for i, pos in enumerate(positions()):
            if i == frame.f_lasti // 2:
                if pos[0] is not None:
                    line = pos[0]
                if pos[2] is not None:
                    col = pos[2] + 1
                break
    return frame.f_code.co_filename, line, col


def _user_frames_only(tb):
    """The traceback chain without tgraph's own frames."""
    kept = []
    while tb is not None:
        if not is_internal(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for t in reversed(kept):
        chain = types.TracebackType(chain, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return chain


def user_facing(fn):
    """Re-raise a TGraphError from a public entry point with tgraph's internal frames cut away,
    keeping the user's (for instance their line inside a traced function), as jax's traceback
    filtering does: the error reads as raised from the user's line."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (pytest hides this frame)
        try:
            return fn(*args, **kwargs)
        except TGraphError as err:
            raise err.with_traceback(_user_frames_only(err.__traceback__)) from None

    return wrapper
