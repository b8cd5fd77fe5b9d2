#!/usr/bin/env python3
"""Turns the measurements of peers/run.sh into the markdown tables and the chart.

Usage: summarize.py OUT_DIR [--update-docs DOC_MD PNG]

OUT_DIR (written by run.sh) holds work/manifest.json (translate.py), status.tsv (workload, engine, "ok" or
why it does not take part), versions.tsv (engine, version), run.tsv (key, value: the run's settings),
whole/WORKLOAD-ENGINE.json (hyperfine exports), inproc/WORKLOAD-ENGINE.json (the drivers' medians) and
inproc/cuttle.json (render_benchmark's Google Benchmark JSON).

Prints the markdown, writes OUT_DIR/peers.md, OUT_DIR/peers-{whole,inproc}.dat and
OUT_DIR/performance-peers.png. With --update-docs, replaces the text between `<!-- peers:begin -->` and
`<!-- peers:end -->` in DOC_MD and copies the chart to PNG.
"""
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

ENGINES = ["cuttle", "jinja2", "handlebars", "mustache", "envsubst"]
LABELS = {"cuttle": "cuttle", "jinja2": "Jinja2", "handlebars": "Handlebars", "mustache": "mustache",
          "envsubst": "envsubst"}
WORKLOADS = ["flat", "rich", "passthrough", "bigvars"]
INPUT = {"flat": "template", "rich": "template", "passthrough": "text", "bigvars": "variables file"}
# Google Benchmark names of cuttle's in-process figure per workload (render_benchmark).
CUTTLE_INPROC = {"flat": "evaluate/flat", "rich": "evaluate/rich", "passthrough": "evaluate/passthrough",
                 "bigvars": "load_and_render/bigvars"}


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return rows


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = re.sub(r"\s+", " ", line.split(":", 1)[1].strip())
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    distro = platform.system()
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "model": model, "ram_gib": mem / 2**30, "os": distro}


def fmt_rate(x):
    if x is None:
        return None
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_ratio(x):
    if x is None:
        return None
    if x >= 100:
        return f"{x:,.0f}×"
    if x >= 10:
        return f"{x:.0f}×"
    return f"{x:.2f}×" if x < 1 else f"{x:.1f}×"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    update = None
    if "--update-docs" in sys.argv:
        i = sys.argv.index("--update-docs")
        update = (sys.argv[i + 1], sys.argv[i + 2])
    with open(f"{out}/work/manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    status = {(w, e): s for w, e, s in read_tsv(f"{out}/status.tsv")}
    versions = dict(read_tsv(f"{out}/versions.tsv"))
    run = dict(read_tsv(f"{out}/run.tsv"))
    workloads = [w for w in WORKLOADS if any(k[0] == w for k in status)]

    # Medians in seconds: whole[(w, e)], inproc[(w, e)].
    whole, inproc, failed = {}, {}, {}
    for w in workloads:
        for e in ENGINES:
            p = f"{out}/whole/{w}-{e}.json"
            if os.path.exists(p):
                with open(p, encoding="utf-8") as f:
                    r = json.load(f)["results"][0]
                whole[(w, e)] = r.get("median") or statistics.median(r["times"])
            p = f"{out}/inproc/{w}-{e}.json"
            if os.path.exists(p):
                with open(p, encoding="utf-8") as f:
                    r = json.load(f)
                if "median" in r:
                    inproc[(w, e)] = r["median"]
                else:
                    failed[(w, e)] = r.get("error", "failed")
    p = f"{out}/inproc/cuttle.json"
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            gb = json.load(f)
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
        # The median aggregate; with a single repetition there is none, and the one run is the figure.
        runs = {}
        for b in gb["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            runs.setdefault(b["run_name"], {})[b.get("run_type")] = b["real_time"] * scale[b["time_unit"]]
        for w, name in CUTTLE_INPROC.items():
            if name in runs and w in workloads:
                inproc[(w, "cuttle")] = runs[name].get("aggregate", runs[name].get("iteration"))

    def rate(table, w, e):
        t = table.get((w, e))
        return manifest[w]["bytes"] / t / 1e6 if t else None

    peers = [e for e in ENGINES[1:] if any(status.get((w, e)) == "ok" for w in workloads)]
    m = machine()
    today = run.get("date") or datetime.date.today().isoformat()
    lines = []
    lines.append(f"Measured on {today} by one run of `benchmarks/peers/run.sh` "
                 f"(whole process: hyperfine {versions.get('hyperfine', '?')}, `--warmup {run.get('warmup', '?')}"
                 f" --runs {run.get('runs', '?')}`; in-process: Google Benchmark with "
                 f"{run.get('repetitions', '?')} repetitions for cuttle, a loop of at least 3 iterations and "
                 f"{run.get('min_time', '?')} s for the peers; medians throughout).")
    lines.append("")
    lines.append(f"Machine: {m['os']}, {m['cpus']} cores ({m['model']}), {m['ram_gib']:.0f} GiB RAM; "
                 f"load average {run.get('load', '?')} when the run started"
                 + (" — other work was running, so read the figures as rough." if float(
                     run.get('load', '0').split()[0] or 0) > 0.5 * (m['cpus'] or 1) else "."))
    lines.append("")
    engines_text = ", ".join(f"{LABELS[e]} {versions[e]}" for e in ENGINES if e in versions)
    lines.append(f"Engines: {engines_text}.")
    if "octostache" in versions:
        lines.append(f"Octostache: {versions['octostache']}.")
    lines.append("")
    lines.append("**Throughput**, MB/s of input (1 MB = 10⁶ bytes), *whole process / in-process*; higher is "
                 "better:")
    lines.append("")
    lines.append("| workload | input | " + " | ".join(LABELS[e] for e in ["cuttle"] + peers) + " |")
    lines.append("| --- | --: | " + " | ".join("--:" for _ in ["cuttle"] + peers) + " |")
    for w in workloads:
        cells = []
        for e in ["cuttle"] + peers:
            s = status.get((w, e), "not run")
            if s != "ok":
                cells.append("—")
                continue
            a, b = fmt_rate(rate(whole, w, e)), fmt_rate(rate(inproc, w, e))
            cells.append(f"{a or '?'} / {b or ('failed' if (w, e) in failed else 'n/a')}")
        lines.append(f"| {w} | {manifest[w]['bytes'] / 1e6:.1f} MB {INPUT[w]} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    lines.append("**cuttle's ratio to each peer**: the peer's median time ÷ cuttle's, *whole process / "
                 "in-process*; above 1× cuttle is faster:")
    lines.append("")
    lines.append("| workload | " + " | ".join(LABELS[e] for e in peers) + " |")
    lines.append("| --- | " + " | ".join("--:" for _ in peers) + " |")
    behind = []
    for w in workloads:
        cells = []
        for e in peers:
            if status.get((w, e)) != "ok":
                cells.append("—")
                continue
            parts = []
            for view, table in (("whole process", whole), ("in-process", inproc)):
                c, p = table.get((w, "cuttle")), table.get((w, e))
                if c and p:
                    parts.append(fmt_ratio(p / c))
                    if p / c < 1:
                        behind.append((w, e, view, p / c))
                else:
                    parts.append("failed" if view == "in-process" and (w, e) in failed else "n/a")
            cells.append(" / ".join(parts))
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("— does not take part; n/a: no in-process figure (envsubst is a program, not a library).")
    left_out = [(w, e, s) for (w, e), s in status.items() if s != "ok" and w in workloads]
    if left_out or failed:
        lines.append("")
        lines.append("Left out:")
        lines.append("")
        for w, e, s in sorted(left_out, key=lambda x: (WORKLOADS.index(x[0]), ENGINES.index(x[1]))):
            lines.append(f"- {w}, {LABELS[e]}: {s}")
    for (w, e), why in failed.items():
        lines.append(f"- {w}, {LABELS[e]}: the in-process loop failed: {why}")
    lines.append("")
    if behind:
        lines.append("cuttle does not lead: " + "; ".join(
            f"{w} against {LABELS[e]} ({view}, {fmt_ratio(r)})" for w, e, view, r in behind) + ".")
    else:
        lines.append("cuttle leads on every workload and in both views.")
    markdown = "\n".join(lines) + "\n"

    # Chart data: one file per view, a row per workload, a column per engine (MB/s; '-' missing).
    cols = ["cuttle"] + peers
    for view, table in (("whole", whole), ("inproc", inproc)):
        with open(f"{out}/peers-{view}.dat", "w", encoding="utf-8") as f:
            f.write("workload " + " ".join(LABELS[e] for e in cols) + "\n")
            for w in workloads:
                vals = []
                for e in cols:
                    r = rate(table, w, e) if status.get((w, e)) == "ok" else None
                    vals.append(f"{r:.6g}" if r else "-")
                f.write(f"{w} " + " ".join(vals) + "\n")
    png = f"{out}/performance-peers.png"

    def plot(view, table):
        # Only the engines with a figure in this view; each engine keeps its colour in both panels.
        shown = [i for i, e in enumerate(cols) if any(
            table.get((w, e)) and status.get((w, e)) == "ok" for w in workloads)]
        return "plot " + ", ".join(
            f'"{out}/peers-{view}.dat" using {i + 2}:xtic(1) title columnheader({i + 2}) linecolor {i + 1}'
            for i in shown)
    gp = f"""
set terminal pngcairo size 1400,560 font "sans,11"
set output "{png}"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.01:*]
set format y "%g"
set grid ytics
set ylabel "MB/s of input (log scale)"
set key outside below center horizontal
set multiplot layout 1,2 title "cuttle and its peers, {today} ({m['cpus']} cores, {m['model']}); higher is better"
set title "whole process (start-up included)"
{plot("whole", whole)}
set title "in-process (parse and render)"
{plot("inproc", inproc)}
unset multiplot
"""
    with open(f"{out}/peers.gp", "w", encoding="utf-8") as f:
        f.write(gp)
    subprocess.run(["gnuplot", f"{out}/peers.gp"], check=True)
    with open(f"{out}/peers.md", "w", encoding="utf-8") as f:
        f.write(markdown)
    print(markdown)
    print(f"chart: {png}")
    if update:
        doc, png_dest = update
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        begin, end = "<!-- peers:begin -->", "<!-- peers:end -->"
        if begin not in text or end not in text:
            sys.exit(f"summarize: {doc} has no {begin} ... {end} block")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        with open(doc, "w", encoding="utf-8") as f:
            f.write(head + begin + "\n" + markdown + end + tail)
        shutil.copyfile(png, png_dest)
        print(f"updated {doc} and {png_dest}")


if __name__ == "__main__":
    main()
