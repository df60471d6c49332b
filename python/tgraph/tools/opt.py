"""tgraph-opt: mlir-opt for tg modules. Parses tg and upstream IR, verifies it (tg's shape rules
included), runs tgraph and upstream passes, prints the result. Errors are MLIR diagnostics with
file:line:col on stderr and exit code 1, never a Python traceback."""

import argparse
import re
import sys

from tgraph import dialect
from tgraph.mlir import ir
from tgraph.passes import PASSES, PipelineError, build_pass_manager

_LOC = re.compile(r'"((?:[^"\\]|\\.)*)":(\d+):(\d+)')


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


def main(argv=None):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    try:
        if args.list_passes:
            list_passes(out)
            return 0
        try:
            text = sys.stdin.read() if args.input == "-" else open(args.input).read()
        except OSError as err:
            print(f"tgraph-opt: error: cannot read {args.input}: {err.strerror}", file=sys.stderr)
            return 1
        filename = "<stdin>" if args.input == "-" else args.input
        ok = True
        with dialect.context():
            for i, (chunk, offset) in enumerate(_chunks(text, args.split_input_file)):
                if i:
                    out.write("// -----\n")
                ok &= process(chunk, args, DiagnosticPrinter(filename, offset), out)
        return 0 if ok else 1
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    sys.exit(main())
