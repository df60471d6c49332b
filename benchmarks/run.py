"""`make bench`: every workload for tgraph, numpy, JAX and PyTorch (eager and torch.compile) in one
interleaved run; prints the table, writes results/latest.json and results/latest.png.

    python benchmarks/run.py                  # the full run (a few minutes)
    python benchmarks/run.py --quick          # a smoke run
    python benchmarks/run.py --markdown       # the table as Markdown, for the README
    python benchmarks/run.py --report benchmarks/snapshot.json --markdown   # a saved run's table again

Thread counts and worker spin times are set in the environment before numpy, JAX, PyTorch or
tgraph is imported (threads.py), which is why those imports happen inside main."""

import argparse
import json
import os
import sys

import threads

HERE = os.path.dirname(os.path.abspath(__file__))
FULL = {"reps": 20, "warmup": 2, "budget": 20.0, "compile_samples": 3}
QUICK = {"reps": 3, "warmup": 0, "budget": 1.0, "compile_samples": 1}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--reps", type=int, help=f"timed repetitions per system (default {FULL['reps']})")
    p.add_argument("--warmup", type=int, help=f"calls after the first, before timing (default {FULL['warmup']})")
    p.add_argument("--budget", type=float,
                   help=f"seconds of repetitions per system and workload, after which it stops repeating "
                        f"(default {FULL['budget']:g})")
    p.add_argument("--compile-samples", type=int,
                   help=f"fresh processes per system for the first-call and compile_chain times (default {FULL['compile_samples']})")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run (well under a minute): "
                        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                        + " unless given; without torch.compile, the first-call rows, compile_chain, scan_costs and "
                        "checkpoint_memory (they compile in new processes) unless named in --systems / --workloads")
    p.add_argument("--threads", type=int, default=2, help="threads for every system (default 2)")
    p.add_argument("--lead-in", type=float, default=0.05,
                   help="seconds of untimed calls before each timed one (default 0.05; see measure.py)")
    p.add_argument("--workloads", help="comma-separated names (default: all); see workloads.py")
    p.add_argument("--systems", help="comma-separated: tgraph,numpy,jax,torch,torch.compile (default: all)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for latest.json and latest.png")
    p.add_argument("--report", metavar="JSON", help="print the table of a saved run; measures nothing")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.reps, args.threads, args.compile_samples) < 1 or args.warmup < 0 or args.budget <= 0:
        p.error("--reps, --threads and --compile-samples must be at least 1, --warmup at least 0, --budget positive")
    return args


def _names(text):
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        import report
        with open(args.report) as f:
            results = json.load(f)
        print(report.markdown(results) if args.markdown else report.text(results))
        return 0

    environment = threads.configure(args.threads)
    import measure
    import report
    import suite
    from systems import SYSTEMS
    from workloads import NAMES

    names = _names(args.workloads) or [n for n in NAMES
                                       if not (args.quick and n in ("first_call", "compile_chain", "scan_costs", "checkpoint_memory",
                                                                 "distributed"))]
    systems = _names(args.systems) or [s for s in SYSTEMS if not (args.quick and s == "torch.compile")]
    unknown = [n for n in names if n not in NAMES] + [s for s in systems if s not in SYSTEMS]
    if unknown:
        sys.exit(f"unknown workload or system: {', '.join(unknown)}; workloads: {', '.join(NAMES)}; "
                 f"systems: {', '.join(SYSTEMS)}")
    settings = {"threads": args.threads, "reps": args.reps, "warmup": args.warmup, "budget_s": args.budget,
                "lead_in_s": args.lead_in, "compile_samples": args.compile_samples, "quick": args.quick,
                "tolerance": measure.TOLERANCE, "environment": environment}
    results = suite.collect(settings, names, systems)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(results, f, indent=1)
    report.chart(results, os.path.join(args.out, "latest.png"))
    print(report.markdown(results) if args.markdown else report.text(results))
    print(f"\nwrote {os.path.relpath(os.path.join(args.out, 'latest.json'))} and latest.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
