"""Pass pipelines that mix tgraph's Python passes with upstream MLIR passes.

MLIR's textual pipeline parser knows only registered C++ passes, so the text is split here:
runs of upstream elements go to the PassManager as text, tgraph elements as Python passes."""

import re

from tgraph.support.mlir import passmanager

from .base import PipelineError

PASSES = {}  # name -> ModulePass subclass; also named pipelines (functions returning pipeline text)


def register_pass(cls):
    assert cls.name and cls.name not in PASSES, cls
    PASSES[cls.name] = cls
    return cls


def split_top_level(text):
    """Split on commas that are not inside (), {} or []."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]


def parse_pipeline(text):
    """'builtin.module(a, b{x=1}, func.func(c))' or 'a,b' -> [(name, options text, element text)]."""
    text = text.strip()
    m = re.fullmatch(r"builtin\.module\((.*)\)", text, re.S)
    if m:
        text = m.group(1)
    elements = []
    for element in split_top_level(text):
        m = re.match(r"[\w.\-]+", element)
        if not m:
            raise PipelineError(f"cannot read pass pipeline element {element!r}")
        elements.append((m.group(0), element[m.end():].strip(), element))
    return elements


def expand(elements):
    """Replace named tgraph pipelines by their elements."""
    out = []
    for name, options, element in elements:
        entry = PASSES.get(name)
        if entry is not None and getattr(entry, "is_pipeline", False):
            out.extend(expand(parse_pipeline(entry.from_options(options).pipeline())))
        else:
            out.append((name, options, element))
    return out


def build_pass_manager(pipeline, context=None):
    """A PassManager on builtin.module running `pipeline` (text, or a list of texts / ModulePass objects)."""
    from .base import ModulePass

    pm = passmanager.PassManager("builtin.module", context=context)
    items = [pipeline] if isinstance(pipeline, (str, ModulePass)) else list(pipeline)
    upstream = []

    def flush():
        if upstream:
            text = ", ".join(upstream)
            try:
                pm.add(text)
            except ValueError as err:
                raise PipelineError(str(err).strip()) from None
            upstream.clear()

    for item in items:
        if isinstance(item, ModulePass):
            flush()
            item.add_to(pm)
            continue
        for name, options, element in expand(parse_pipeline(item)):
            if name in PASSES:
                flush()
                PASSES[name].from_options(options).add_to(pm)
            else:
                upstream.append(element)
    flush()
    return pm
