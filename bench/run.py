"""Benchmarks: the ETL and the reports from 70 to 100,000 forms.

    python -m bench.run [--sizes 70 1000 10000 100000] [--jobs 2] [--no-notebooks]

For each size: the corpus (the seed files for 70; bench.generate otherwise) goes
through `python etl.py --no-cache` in a child process while this process samples
the peak memory of the whole process tree every 250 ms. Then: the same run again on the
unchanged corpus (incremental), `etl.load()` in a fresh process, and every
notebook through papermill on the resulting tables. Results are appended to
bench/results.csv (with the machine they came from) and drawn in bench/scaling.png.
These are measurements, not tests: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from bench import generate, verify
from selfeval.run import pipeline

ROOT = Path(__file__).resolve().parent.parent


OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results.csv"
NOTEBOOKS = ["01_budget_execution", "02_score_inflation", "03_indicator_phrasing"]
FIELDS = [
    "timestamp",
    "machine",
    "forms",
    "files",
    "jobs",
    "parser",
    "etl_seconds",
    "etl_cpu_seconds",
    "etl_steal_seconds",
    "forms_per_second",
    "peak_rss_mb",
    "incremental_seconds",
    "load_seconds",
    "correct",
    *[f"{n}_seconds" for n in NOTEBOOKS],
]


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()} {os.cpu_count()} cores {memory:.0f} GiB, Python {platform.python_version()}"


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, from /proc/stat: busy is
    user + nice + system + irq + softirq; stolen is time the hypervisor gave another
    guest. On this virtual machine steal varies from run to run, and so do the timings:
    the columns say how busy the machine was while a figure was taken."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / tick, fields[7] / tick


def measure(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak memory (MB) of the command's whole process tree.

    Peak memory: the largest sum, over the tree's live processes, of each process's own
    peak RSS (VmHWM, kept by the kernel, so a peak between two samples is not missed);
    an upper bound of the tree's peak, as the processes need not peak at once. Sampled
    every 250 ms: sampling every 20 ms took a tenth of the two cores from the run it measured."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    parent = psutil.Process(process.pid)
    peaks: dict[int, int] = {}
    peak = 0
    while process.poll() is None:
        try:
            for member in [parent, *parent.children(recursive=True)]:
                peaks[member.pid] = max(peaks.get(member.pid, 0), _peak_rss(member))
            live = {p.pid for p in [parent, *parent.children(recursive=True)]}
            peak = max(peak, sum(v for pid, v in peaks.items() if pid in live))
        except psutil.Error:
            pass
        time.sleep(0.25)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    return seconds, peak / 2**20, subprocess.CompletedProcess(command, process.returncode, out, err)


def _peak_rss(process: psutil.Process) -> int:
    """A process's peak RSS in bytes (VmHWM on Linux), else its current RSS."""
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return process.memory_info().rss


def corpus(forms: int, one_file: bool = False) -> tuple[Path, Path | None]:
    """(raw folder, expected.csv or None) for a size; generated once and kept in bench/out.
    one_file: every form in one file (memory must stay flat within a file, not only across files)."""
    if forms == 70:
        return ROOT / "data" / "raw", None
    folder = OUT / (f"{forms}-one-file" if one_file else str(forms))
    if not (folder / "expected.csv").exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate.generate(forms, seed=forms, out=folder, **({"forms_per_file": forms} if one_file else {}))
    return folder / "raw", folder / "expected.csv"


def load_seconds(processed: Path, raw: Path) -> float:
    code = (
        "import time, etl; t = time.perf_counter(); "
        f"etl.load(processed_dir=r'{processed}', raw_dir=r'{raw}'); print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def notebook_seconds(processed: Path) -> dict[str, float]:
    from selfeval.reports import runner as reports

    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "kernel": "selfeval",
            "timeout_seconds": 1800,
            "processed_dir": str(processed),
            "raw_dir": str(ROOT / "data" / "raw"),
            "output_dir": tmp,
            "defaults": {"district": "all", "department": "all", "year": "all", "lang": "zh"},
            "notebooks": [{"path": f"notebooks/{n}.ipynb"} for n in NOTEBOOKS],
            "parameter_sets": [{"name": "all", "params": {}}],
        }
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        results = reports.run_reports(path, project_root=ROOT, output_dir=Path(tmp) / "reports")
    return {f"{r.notebook}_seconds": round(r.seconds, 2) if r.ok else float("nan") for r in results}


def bench(forms: int, jobs: int, notebooks: bool, one_file: bool = False) -> dict:
    raw, expected = corpus(forms, one_file)
    processed = OUT / f"processed-{forms}"
    shutil.rmtree(processed, ignore_errors=True)
    command = [sys.executable, "etl.py", "--raw", str(raw), "--out", str(processed), "--no-cache", "--jobs", str(jobs)]
    busy, stolen = machine_cpu()
    seconds, peak, result = measure(command)
    busy, stolen = machine_cpu()[0] - busy, machine_cpu()[1] - stolen
    if result.returncode not in (0, 1):
        raise RuntimeError(f"ETL failed on {forms} forms: {result.stderr[-2000:]}")
    incremental, _, _ = measure(command[:-3] + ["--jobs", str(jobs)])  # cache on, nothing changed
    row = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": machine(),
        "forms": forms,
        "files": len(list(raw.glob("*.txt"))),
        "jobs": jobs,
        "parser": (pipeline.read_manifest(processed) or {}).get("parser", ""),  # compiled or python
        "etl_seconds": round(seconds, 2),
        "etl_cpu_seconds": round(busy, 1),
        "etl_steal_seconds": round(stolen, 1),
        "forms_per_second": round(forms / seconds),
        "peak_rss_mb": round(peak),
        "incremental_seconds": round(incremental, 2),
        "load_seconds": round(load_seconds(processed, raw), 3),
        "correct": "n/a" if expected is None else str(verify.mismatches(expected, processed).empty),
    }
    if notebooks:
        row.update(notebook_seconds(processed))
    return row


def latest_rows() -> list[dict]:
    """For each corpus size, the newest value of every column of bench/results.csv
    (a --no-notebooks run keeps the earlier notebook timings), smallest size first. Runs
    with the pure-Python parser (parser = python, kept for comparison) are left out."""
    latest: dict[int, dict] = {}
    with open(RESULTS, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("parser") == "python":
                continue
            latest.setdefault(int(row["forms"]), {}).update({k: v for k, v in row.items() if v not in ("", None)})
    return [latest[size] for size in sorted(latest)]


def chart(rows: list[dict]) -> Path:
    import matplotlib.pyplot as plt

    from selfeval.analysis import charts

    charts.use_style()
    fig, ax = charts.new_figure()
    xs = [int(r["forms"]) for r in rows]
    ax.loglog(xs, [float(r["etl_seconds"]) for r in rows], "o-", label="ETL (--no-cache)")
    for name in NOTEBOOKS:
        ys = [float(r.get(f"{name}_seconds") or "nan") for r in rows]  # empty when run with --no-notebooks
        ax.loglog(xs, ys, "s--", label=name)
    # linear growth through the largest corpus (small ones are dominated by start-up time)
    ax.loglog(xs, [x / xs[-1] * float(rows[-1]["etl_seconds"]) for x in xs], ":", color="0.6", label="linear in forms")
    ax.axhline(60, color="C3", lw=1, label="60 s target")
    ax.set_xlabel("forms")
    ax.set_ylabel("seconds")
    ax.legend(loc="lower right")
    charts.finish(
        fig,
        ax,
        "selfeval: run time against number of forms",
        f"Source: bench/results.csv, {rows[-1]['machine']}",
        lang="en",
    )
    path = charts.save_figure(fig, ROOT / "bench", "scaling").png
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[70, 1000, 10000, 100000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-notebooks", action="store_true")
    parser.add_argument("--one-file", action="store_true", help="each corpus as a single file (column files = 1)")
    args = parser.parse_args(argv)
    rows = []
    for forms in args.sizes:
        row = bench(forms, args.jobs, not args.no_notebooks, args.one_file)
        rows.append(row)
        print(", ".join(f"{k}={v}" for k, v in row.items() if k not in ("timestamp", "machine")), flush=True)
    earlier = []
    if RESULTS.exists():  # kept, under the current header (columns added since are left empty)
        with open(RESULTS, encoding="utf-8", newline="") as handle:
            earlier = list(csv.DictReader(handle))
    with open(RESULTS, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(earlier + rows)
    print(f"appended {len(rows)} rows to {RESULTS.relative_to(ROOT)}; chart {chart(latest_rows()).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
