"""The report, made from the results alone (the JSON run.py writes), so that any saved run prints
again as the same table: plain text, Markdown, and a bar chart of the ratios."""

from machine import describe

BUSY_WARNING = 0.2  # cores kept busy by other processes, on average, above which the report warns
RATIO_NOTE = "ratio = tgraph's time / the peer's time: below 1, tgraph is faster"


def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def _rate(workload, seconds):
    if not workload.get("unit"):
        return ""
    scale = 1e9  # GFLOP/s and GB/s
    return f", {workload['work'] / seconds / scale:.3g} {workload['unit']}"


def good(cell):
    return cell.get("status") == "ok" and cell.get("check_ok", False)


def time_cell(workload, cell):
    status = cell.get("status")
    if status == "error":
        reason = cell["error"]
        return f"error: {reason if len(reason) <= 48 else reason[:45] + '...'}"
    if status != "ok":
        return status  # "skipped", "n/a"
    text = fmt_time(cell["median_s"]) + _rate(workload, cell["median_s"])
    if cell["reps"] < workload["reps"]:
        text += f" [{cell['reps']} reps]"
    return text if cell["check_ok"] else f"WRONG {text}"


def ratio(tgraph, peer):
    if not (good(tgraph) and good(peer)):
        return None
    return tgraph["median_s"] / peer["median_s"]


def best_peer(cells, peers):
    times = [(cells[p]["median_s"], p) for p in peers if good(cells.get(p, {}))]
    return min(times)[1] if times else None


def check_cell(cells):
    ok = [c for c in cells.values() if c.get("status") == "ok"]
    wrong = [f"{s} {c['check_error']:.1g}" for s, c in cells.items() if c.get("status") == "ok" and not c["check_ok"]]
    if wrong:
        return "WRONG: " + ", ".join(wrong)
    return f"ok (<= {max(c['check_error'] for c in ok):.0e})" if ok else "-"


def rows(results):
    """[header, row...] of strings: one row per workload."""
    systems, peers = results["systems"], [s for s in results["systems"] if s != "tgraph"]
    header = ["workload"] + systems + [f"tgraph/{p}" for p in peers] + ["tgraph/best", "check"]
    table = [header]
    for w in results["workloads"]:
        cells = w["cells"]
        tgraph = cells.get("tgraph", {})
        row = [w["title"]] + [time_cell(w, cells.get(s, {"status": "-"})) for s in systems]
        for p in peers:
            r = ratio(tgraph, cells.get(p, {}))
            row.append(f"{r:.2f}" if r is not None else "-")
        best = best_peer(cells, peers)
        r = ratio(tgraph, cells[best]) if best else None
        row.append(f"{r:.2f} ({best})" if r is not None else "-")
        table.append(row + [check_cell(cells)])
    return table


def _mib(count):
    return f"{count / 2**20:.1f} MiB"


def memory_cell(cell):
    status = cell.get("status")
    if status == "error":
        return f"error: {cell['error'][:45]}"
    if status != "ok":
        return status
    text = f"{_mib(cell['bytes'])}, {fmt_time(cell['median_s'])}"
    return text if cell["check_ok"] else f"WRONG {text}"


def memory_rows(results):
    """[header, row...] of the memory table (results["memory"]), or [] when it was not measured:
    each system's rise of the peak resident memory during a call and its time per call."""
    if not results.get("memory"):
        return []
    systems = [s for s in results["systems"] if any(r["cells"].get(s, {}).get("status") not in (None, "n/a")
                                                    for r in results["memory"])]
    peers = [s for s in systems if s != "tgraph"]
    table = [["peak memory of one call"] + systems + [f"tgraph/{p} (memory)" for p in peers]
             + ["tgraph's static peak", "check"]]
    for row in results["memory"]:
        cells = row["cells"]
        tgraph = cells.get("tgraph", {})
        ratios = [f"{tgraph['bytes'] / cells[p]['bytes']:.2f}" if good(tgraph) and good(cells.get(p, {})) else "-"
                  for p in peers]
        static = _mib(tgraph["static_peak_bytes"]) if "static_peak_bytes" in tgraph else "-"
        table.append([row["title"]] + [memory_cell(cells.get(s, {})) for s in systems] + ratios
                     + [static, check_cell(cells)])
    return table


MEMORY_NOTE = ("peak memory: the rise of the process's peak resident size (VmHWM) during one call after a first "
               "one, malloc's kept memory given back before it (checkpoint_memory.py), new process per cell; "
               "with it, the median time of 5 calls; ratio below 1: tgraph needs less; static peak: the most "
               "bytes live at once in tgraph's compiled code, in program order (tg-record-allocations).")


def yardstick_notes(results):
    """For each rate row: the fraction of the measured FMA peak (GFLOP/s rows) or of numpy's copy
    bandwidth (GB/s rows) that tgraph and the best peer reach."""
    limits = {"GFLOP/s": (results["machine"].get("fma_peak_gflops"), "of the measured FMA peak"),
              "GB/s": (results["machine"].get("copy_gb_s"), "of numpy's copy bandwidth")}
    lines = []
    for w in results["workloads"]:
        limit, what = limits.get(w.get("unit"), (None, ""))
        if not limit or not w["name"].startswith(("matmul", "softmax", "layer_norm", "tanh_fma")):
            continue
        systems = [s for s in results["systems"] if good(w["cells"].get(s, {}))]
        shares = [f"{s} {w['work'] / w['cells'][s]['median_s'] / 1e9 / limit:.0%}" for s in systems]
        if shares:
            lines.append(f"{w['title']}, {what} ({limit:g} {w['unit']}): {', '.join(shares)}")
    return lines


def distributed_rows(results):
    """[header, row...] of the data-parallel table (results["distributed"]), or []."""
    runs = results.get("distributed")
    if not runs:
        return []
    table = [["data parallel on MPI (1 thread per process)"] + [f"{r['processes']} process(es)" for r in runs]]
    table.append([f"MLP train step, batch {runs[0]['batch']} per process (weak scaling)"]
                 + [fmt_time(r["step_s"]) for r in runs])
    table.append([f"its gradient all_reduce alone ({runs[0]['bucket_elements']:,} f32, one bucket), share of the step"]
                 + [f"{fmt_time(r['bucket_all_reduce_s'])} ({r['bucket_all_reduce_s'] / r['step_s']:.0%})"
                    for r in runs])
    for mib in (4, 64):
        if f"tgraph_{mib}mib_s" not in runs[0]:
            continue
        for who in ("tgraph", "mpi4py"):
            what = "tg.all_reduce compiled" if who == "tgraph" else "mpi4py Allreduce"
            table.append([f"all_reduce {mib} MiB f32: {what}"]
                         + [f"{fmt_time(r[f'{who}_{mib}mib_s'])}, {mib * 2 ** 20 / r[f'{who}_{mib}mib_s'] / 1e9:.2g} GB/s"
                            + ("" if who == "mpi4py" or r[f"check_{mib}mib"] else " WRONG") for r in runs])
    return table


DISTRIBUTED_NOTE = ("data parallel: new processes under mpiexec (MPICH, shared memory), tgraph on one thread per "
                    "process; times are the median of the slowest process, each call started after a barrier; "
                    "GB/s: the buffer's bytes over the time (algorithm bandwidth).")


def notes(results):
    s = results["settings"]
    lines = [f"Times: median of {s['reps']} repetitions per system, the systems interleaved round-robin; each "
             f"repetition is {s['lead_in_s'] * 1e3:g} ms (at least one call) of untimed calls, then the timed call; "
             f"{s['warmup']} warm-up call(s) first; [n reps]: fewer, the system reached the {s['budget_s']:g} s "
             "budget. "
             f"First calls: median of {s['compile_samples']} new process(es).",
             f"{RATIO_NOTE}; best = the fastest peer with a correct result.",
             f"check: largest |result - reference| / max |reference| over all outputs, against numpy in float64; "
             f"tolerance {s['tolerance']:g}; a WRONG result gets no ratio."]
    lines += yardstick_notes(results)
    lines += results.get("notes", [])
    if results.get("distributed"):
        lines.append(DISTRIBUTED_NOTE)
    if results.get("memory"):
        lines.append(MEMORY_NOTE)
        lines += [f"{r['title']}: XLA's temporary buffers {_mib(r['cells']['jax']['xla_temp_bytes'])}"
                  for r in results["memory"] if "xla_temp_bytes" in r["cells"].get("jax", {})]
    lines += [f"{system}: skipped, {why}" for system, why in results["skipped"].items()]
    lines += [f"{name}: not run, {why}" for name, why in results.get("skipped_workloads", {}).items()]
    busy = results.get("other_processes_cores", 0.0)
    if busy > BUSY_WARNING:
        lines.append(f"WARNING: other processes kept {busy:g} of the {results['machine']['cores']} cores busy on "
                     f"average during this run (load average {results['machine']['load_average_1min']:g} at its "
                     "start): the times are noisy; measure again on an idle machine.")
    lines += [f"{w['title']}: {w['work'] / 1e6:.1f} {'MFLOP' if w['unit'] == 'GFLOP/s' else 'MB'} per call "
              f"({w['formula']})" for w in results["workloads"] if w.get("formula")]
    return lines


def _plain(table):
    if len(table) < 2:  # no table, or a header without rows
        return []
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines + [""]


def _markdown(table):
    if len(table) < 2:
        return []
    lines = ["| " + " | ".join(row) + " |" for row in table]
    lines.insert(1, "|" + "|".join("---" for _ in table[0]) + "|")
    return lines + [""]


def text(results):
    header = describe(results["machine"], results["settings"]["threads"])
    return "\n".join([header, ""] + _plain(rows(results)) + _plain(memory_rows(results))
                     + _plain(distributed_rows(results)) + notes(results))


def markdown(results):
    header = "Measured on " + describe(results["machine"], results["settings"]["threads"]) + "."
    return "\n".join([header, ""] + _markdown(rows(results)) + _markdown(memory_rows(results))
                      + _markdown(distributed_rows(results))
                     + [f"- {n}" for n in notes(results)])


def chart(results, path):
    """Bars of tgraph/peer per workload (log scale; below the line at 1, tgraph is faster)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = [s for s in results["systems"] if s != "tgraph"]
    workloads = results["workloads"]
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(workloads)), 5))
    width = 0.8 / max(len(peers), 1)
    for i, peer in enumerate(peers):
        values = [ratio(w["cells"].get("tgraph", {}), w["cells"].get(peer, {})) for w in workloads]
        xs = [j + (i - (len(peers) - 1) / 2) * width for j, v in enumerate(values) if v is not None]
        if not xs:
            continue
        bars = ax.bar(xs, [v for v in values if v is not None], width, label=f"tgraph / {peer}")
        ax.bar_label(bars, fmt="%.2g", fontsize=6)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)), [w["name"] for w in workloads], rotation=35, ha="right")
    ax.set_ylabel("time ratio (log scale)")
    ax.set_title("tgraph time / peer time (below 1: tgraph is faster)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

