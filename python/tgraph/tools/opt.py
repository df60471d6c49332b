"""tgraph-opt: mlir-opt for tg modules. Parses tg and upstream IR, verifies it (tg's shape rules
included), runs tgraph and upstream passes, prints the result. Errors are MLIR diagnostics with
file:line:col on stderr and exit code 1, never a Python traceback; other failures (files that
cannot be read or written, bad pass options) are one line `tgraph-opt: error: ...`."""

import argparse
import contextlib
import errno
import io
import os
import re
import stat
import sys
import tempfile

from tgraph import dialect
from tgraph.support.mlir import ir, stablehlo_module
from tgraph.passes import PASSES, PipelineError, build_pass_manager

_LOC = re.compile(r'"((?:[^"\\]|\\.)*)":(\d+):(\d+)')


class ToolError(Exception):
    """A failure reported as the one line `tgraph-opt: error: <message>`, with exit code 1."""


def read_input(path):
    """The text of `path` ('-': stdin). MLIR is UTF-8: other bytes are an error, not a traceback."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
        return data.decode("utf-8")
    except OSError as err:
        raise ToolError(f"cannot read {name}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ToolError(f"cannot read {name}: not UTF-8 text (byte {err.start} is {data[err.start]:#04x})") from None


def _new_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class Output:
    """Where the result goes. '-' is stdout, written as results come. A regular file, or one that
    does not exist yet, is written under a temporary name in its directory and renamed over the
    target only when everything succeeded: a failure leaves an existing file byte for byte as it
    was, and `-o` may name the input. Anything else (a device such as /dev/full or /dev/stdout, a
    pipe, a symbolic link, which a rename would replace rather than write through) is opened and
    written directly, and also only after success."""

    def __init__(self, path):
        self.path, self._temporary = path, None
        if path == "-":
            self._stream = sys.stdout
            return
        try:
            try:
                target = os.lstat(path)
            except FileNotFoundError:
                target = None
            if target is not None and stat.S_ISDIR(target.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if target is None or stat.S_ISREG(target.st_mode):
                folder, base = os.path.split(path)
                fd, self._temporary = tempfile.mkstemp(dir=folder or ".", prefix=f".{base}.", suffix=".tmp")
                self._stream = open(fd, "w", encoding="utf-8")
                # The result replaces the file: it keeps the file's permissions, or gets a new file's.
                os.fchmod(fd, stat.S_IMODE(target.st_mode) if target else _new_file_mode())
            else:
                self._stream = io.StringIO()
        except OSError as err:
            self._drop_temporary()
            raise self._error(err) from None

    def _error(self, err):
        return ToolError(f"cannot write {'<stdout>' if self.path == '-' else self.path}: {err.strerror}")

    def write(self, text):
        try:
            self._stream.write(text)
        except OSError as err:
            raise self._error(err) from None

    def close(self, success):
        """Put the result in place if `success`, else drop it (stdout keeps what it was sent)."""
        try:
            if self._stream is sys.stdout:
                sys.stdout.flush()
            elif self._temporary:
                self._stream.close()
                if success:
                    os.replace(self._temporary, self.path)
                    self._temporary = None
            elif success:
                with open(self.path, "w", encoding="utf-8") as f:
                    f.write(self._stream.getvalue())
        except OSError as err:
            raise self._error(err) from None
        finally:
            self._drop_temporary()

    def _drop_temporary(self):
        """Remove an unfinished temporary file; an error here would only hide the one being reported."""
        if self._temporary:
            with contextlib.suppress(OSError):
                self._stream.close()
            with contextlib.suppress(OSError):
                os.unlink(self._temporary)
            self._temporary = None


class DiagnosticPrinter:
    """Formats MLIR diagnostics as `file:line:col: error: message`, as mlir-opt does."""

    def __init__(self, filename, line_offset=0):
        self.filename, self.line_offset = filename, line_offset

    def position(self, location):
        m = _LOC.search(str(location))
        if not m:
            return self.filename
        name, line, col = m.group(1), int(m.group(2)), int(m.group(3))
        if name == "-":  # the buffer we parsed: the input file, shifted to its split chunk
            return f"{self.filename}:{line + self.line_offset}:{col}"
        return f"{name}:{line}:{col}"

    def print(self, diagnostic, out=sys.stderr):
        severity = str(diagnostic.severity).rsplit(".", 1)[-1].lower()
        print(f"{self.position(diagnostic.location)}: {severity}: {diagnostic.message}", file=out)
        for note in diagnostic.notes:
            self.print(note, out)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tgraph-opt",
        description="Run tgraph and upstream MLIR passes on a .mlir file (or stdin) holding tg ops.",
        epilog="Any other --NAME or --NAME=OPTIONS runs the pass NAME (tgraph or upstream), in order.")
    parser.add_argument("input", nargs="?", default="-", help="input .mlir file, '-' for stdin (default)")
    parser.add_argument("-o", dest="output", default="-", help="output file (default stdout)")
    parser.add_argument("--pass-pipeline", help="textual pipeline, e.g. 'builtin.module(canonicalize, cse)'")
    parser.add_argument("--list-passes", action="store_true", help="list tgraph's passes and pipelines")
    parser.add_argument("--split-input-file", action="store_true", help="treat '// -----' as separate inputs")
    parser.add_argument("--mlir-print-ir-after-all", action="store_true")
    parser.add_argument("--mlir-print-ir-before-all", action="store_true")
    parser.add_argument("--mlir-print-debuginfo", action="store_true", help="print locations")
    parser.add_argument("--mlir-print-op-generic", action="store_true", help="print every op in generic form")
    parser.add_argument("--mlir-timing", action="store_true", help="report the time of each pass")
    args, rest = parser.parse_known_args(argv)
    flags = []
    for item in rest:
        m = re.fullmatch(r"--([\w.\-]+)(?:=(.*))?", item, re.S)
        if not m:
            parser.error(f"unrecognized argument {item!r}")
        flags.append(m.group(1) + (f"{{{m.group(2)}}}" if m.group(2) else ""))
    if flags and args.pass_pipeline:
        parser.error("give either --pass-pipeline or individual pass flags, not both")
    args.pipeline = args.pass_pipeline or ",".join(flags)
    return args


def list_passes(out):
    print("tgraph passes and pipelines:", file=out)
    for name, cls in sorted(PASSES.items()):
        print(f"  --{name:<28} {cls.summary}", file=out)
        for field in cls.options():
            print(f"      {field.name.replace('_', '-'):<24} {field.metadata.get('help', '')}", file=out)
    print("Every upstream MLIR pass is accepted too (canonicalize, cse, one-shot-bufferize, ...).", file=out)


def _chunks(text, split):
    if not split:
        return [(text, 0)]
    chunks, offset = [], 0
    for part in re.split(r"^// -----.*\n?", text, flags=re.M):
        chunks.append((part, offset))
        offset += part.count("\n") + 1
    return chunks


def process(text, args, printer, out):
    """Parse, run the pipeline and print one input; returns False after reporting an error."""
    try:
        module = ir.Module.parse(text)
        if args.pipeline:
            pm = build_pass_manager(args.pipeline)
            if args.mlir_print_ir_after_all or args.mlir_print_ir_before_all:
                pm.enable_ir_printing(print_before_all=args.mlir_print_ir_before_all,
                                      print_after_all=args.mlir_print_ir_after_all,
                                      enable_debug_info=args.mlir_print_debuginfo)
            if args.mlir_timing:
                pm.enable_timing()
            pm.run(module.operation)
    except ir.MLIRError as err:
        for diagnostic in err.error_diagnostics:
            printer.print(diagnostic)
        if not err.error_diagnostics:
            print(f"{printer.filename}: error: {str(err).strip()}", file=sys.stderr)
        return False
    except PipelineError as err:
        print(f"tgraph-opt: error: {err}", file=sys.stderr)
        return False
    out.write(module.operation.get_asm(enable_debug_info=args.mlir_print_debuginfo,
                                       print_generic_op_form=args.mlir_print_op_generic))
    return True


def _read_stablehlo(ctx):
    """Let the tool read StableHLO (what --tg-import-stablehlo converts), where the bindings have it."""
    try:
        stablehlo_module().register_dialect(ctx)
    except ImportError:
        pass


def convert(text, args, out):
    """Process the input (each of its chunks with --split-input-file); True if all succeeded."""
    filename = "<stdin>" if args.input == "-" else args.input
    ok = True
    with dialect.context() as ctx:
        _read_stablehlo(ctx)
        for i, (chunk, offset) in enumerate(_chunks(text, args.split_input_file)):
            if i:
                out.write("// -----\n")
            ok &= process(chunk, args, DiagnosticPrinter(filename, offset), out)
    return ok


def run(args):
    """Read the input first (so `-o` may name it), then write the output only if all went well."""
    text = None if args.list_passes else read_input(args.input)
    out = Output(args.output)
    ok = False  # an exception on the way is a failure too: the output is then dropped
    try:
        if args.list_passes:
            list_passes(out)
            ok = True
        else:
            ok = convert(text, args, out)
    finally:
        out.close(success=ok)
    return 0 if ok else 1

def main(argv=None):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except ToolError as err:
        print(f"tgraph-opt: error: {err}", file=sys.stderr)
        return 1

if __name__ == "__main__":
    sys.exit(main())
