"""ModulePass: a tgraph pass run by the MLIR pass manager, with MLIR-style typed options.

A pass is a dataclass: its fields are its options (`tg-generate-adjoint{func=f wrt=0,2}`), its
`name` is its command-line flag and the name of its lit test file, as in xDSL.

A field's metadata holds its `help` and may bound its values: `min` (the smallest allowed),
`choices` (the allowed values) or `check` (a predicate and the words that describe it). They are
checked whenever a pass is built, from pipeline text or directly in Python."""

import dataclasses
import typing
from typing import ClassVar

from tgraph.support.mlir import ir


class PassFailure(Exception):
    """Raised inside a pass: reported as an error diagnostic at `location` (the failing op's)."""

    def __init__(self, message, location=None):
        super().__init__(message)
        self.location = location


def collect_ops(module, predicate):
    """The ops under `module` for which predicate(op) holds, in walk order: a list, so the caller
    may rewrite them without disturbing the walk."""
    found = []

    def visit(op):
        if predicate(op):
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return found


class PipelineError(ValueError):
    """A pass or option that does not exist, or an option value of the wrong kind."""


def _parse_value(text, annotation, where):
    origin = typing.get_origin(annotation)
    try:
        if annotation is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if annotation in (int, str):
            return annotation(text)
        if origin in (tuple, list):
            (item,) = set(a for a in typing.get_args(annotation) if a is not Ellipsis)
            return tuple(item(v) for v in text.split(",") if v != "")
        if origin is typing.Union:  # Optional[X]
            inner = next(a for a in typing.get_args(annotation) if a is not type(None))
            return _parse_value(text, inner, where)
    except ValueError:
        pass
    raise PipelineError(f"{where}: cannot read {text!r} as {getattr(annotation, '__name__', annotation)}")


def _check_option(pass_name, field, value):
    """Raise PipelineError unless `value` (each item of a tuple option) is allowed by the field's metadata."""
    meta = field.metadata
    rules = []
    if "min" in meta:
        rules.append((lambda v: v >= meta["min"], f">= {meta['min']}"))
    if "choices" in meta:
        rules.append((lambda v: v in meta["choices"], "one of " + ", ".join(map(str, meta["choices"]))))
    if "check" in meta:
        rules.append(meta["check"])
    for item in value if isinstance(value, (tuple, list)) else (value,):
        for allowed, description in rules:
            if item is not None and not allowed(item):
                raise PipelineError(f"option '{field.name.replace('_', '-')}' of pass '{pass_name}' "
                                    f"must be {description}, not {item!r}")


def _format_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclasses.dataclass
class ModulePass:
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __post_init__(self):
        for field in self.options():
            _check_option(self.name, field, getattr(self, field.name))

    def run(self, module):
        """Transform `module` (an ir.Operation, the builtin.module) in place; raise PassFailure on error."""
        raise NotImplementedError

    @classmethod
    def options(cls):
        return dataclasses.fields(cls)

    @classmethod
    def from_options(cls, text=""):
        """Build from MLIR option text: `{a=1 b=x,y}` or `a=1 b=x,y`."""
        text = text.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1].strip()
        hints = typing.get_type_hints(cls)
        fields = {f.name.replace("_", "-"): f for f in cls.options()}
        kwargs = {}
        for item in text.split():
            key, _, value = item.partition("=")
            field = fields.get(key) or fields.get(key.replace("_", "-"))
            if field is None:
                known = ", ".join(fields) or "none"
                raise PipelineError(f"pass '{cls.name}' has no option '{key}' (its options: {known})")
            kwargs[field.name] = _parse_value(value, hints[field.name], f"option '{key}' of pass '{cls.name}'")
        return cls(**kwargs)

    def pipeline_text(self):
        opts = " ".join(f"{f.name.replace('_', '-')}={_format_value(getattr(self, f.name))}"
                        for f in self.options() if getattr(self, f.name) != f.default and getattr(self, f.name) is not None)
        return f"{self.name}{{{opts}}}" if opts else self.name

    def add_to(self, pm):
        pm.add(self._run_in_pass_manager, name=type(self).__name__, argument=self.name)

    def _run_in_pass_manager(self, op, pass_):
        try:
            with op.context, op.location:  # defaults for everything the pass builds
                self.run(op)
        except PassFailure as err:
            (err.location or op.location).emit_error(f"{self.name}: {err}")
            pass_.signal_pass_failure()
        except Exception as err:  # a bug in the pass: still a diagnostic, never a crash of the pass manager
            op.location.emit_error(f"{self.name}: internal error: {type(err).__name__}: {err}")
            pass_.signal_pass_failure()
