"""Benchmark of the document readers (issue 14): N synthetic forms as PDF and as .docx through the ETL.

    python -m bench.documents [--forms 1000] [--formats pdf docx]

The synthetic text corpus of bench.generate (50 forms a file) is rendered, file by file, by the
test fixtures' real writers (tests/fixtures/render.py: python-docx, fpdf2 with a CJK TrueType
font), one document per text file. Each format's folder then goes through `python etl.py
--no-cache --jobs 2` (wall time, forms/s, peak memory of the process tree as in bench.run), and
a second run with the cache on, which must read no document again: the manifest says the
previous tables were reused, or every file's parse came from the cache (content hash).
Results are appended to bench/documents.csv with the machine; the README quotes them.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

from bench import generate
from bench.run import OUT, ROOT, machine, machine_cpu, measure
from tests.fixtures import render

RESULTS = ROOT / "bench" / "documents.csv"
COLUMNS = [
    "timestamp",
    "machine",
    "format",
    "forms",
    "files",
    "render_seconds",
    "etl_seconds",
    "etl_cpu_seconds",
    "etl_steal_seconds",
    "forms_per_second",
    "peak_rss_mb",
    "forms_loaded",
    "rerun_seconds",
    "rerun_reused",
    "text_export_etl_seconds",
]


def documents(forms: int, kind: str) -> tuple[Path, float]:
    """The rendered folder for a size and format (made once, kept in bench/out), and the seconds rendering took."""
    folder = OUT / f"documents-{forms}-{kind}"
    text = OUT / f"documents-{forms}-text"
    if not (text / "raw").exists():
        generate.generate(forms, seed=forms, out=text)
    if folder.exists() and any(folder.iterdir()):
        return folder, float("nan")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for path in sorted((text / "raw").glob("*.txt")):
        forms_of_file = render.seed_forms(path.parent, {path.name: None})
        (folder / f"{path.stem}.{kind}").write_bytes(render.RENDERERS[kind](forms_of_file))
    return folder, time.perf_counter() - started


def run_etl(raw: Path, processed: Path, cache: bool) -> tuple[float, float, dict, float, float]:
    """(seconds, peak MB, the run's manifest plus `reused` from its summary line, busy and stolen CPU s)."""
    command = [sys.executable, "etl.py", "--raw", str(raw), "--out", str(processed), "--jobs", "2"]
    if not cache:
        command.append("--no-cache")
    busy, stolen = machine_cpu()
    seconds, peak, result = measure(command)
    busy, stolen = machine_cpu()[0] - busy, machine_cpu()[1] - stolen
    if result.returncode not in (0, 1):
        raise RuntimeError(f"ETL failed on {raw}: {result.stderr[-2000:]}")
    manifest = json.loads((processed / "run.json").read_text(encoding="utf-8"))
    manifest["reused"] = "previous tables reused" in result.stdout  # the summary line of etl.py
    return seconds, peak, manifest, busy, stolen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forms", type=int, default=1000)
    parser.add_argument("--formats", nargs="+", default=["pdf", "docx"], choices=["pdf", "docx", "xlsx", "html"])
    args = parser.parse_args(argv)
    if "pdf" in args.formats and not render.fonts_available():
        parser.error(f"PDF needs the font {render.FONT_FILE} (make fonts)")
    text_raw = OUT / f"documents-{args.forms}-text" / "raw"
    rows = []
    for kind in args.formats:
        folder, render_seconds = documents(args.forms, kind)
        processed = OUT / f"documents-processed-{kind}"
        shutil.rmtree(processed, ignore_errors=True)
        seconds, peak, manifest, busy, stolen = run_etl(folder, processed, cache=False)
        rerun, _, again, _, _ = run_etl(folder, processed, cache=True)
        text_seconds = run_etl(text_raw, OUT / "documents-processed-text", cache=False)[0]
        rows.append(
            {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "machine": machine(),
                "format": kind,
                "forms": args.forms,
                "files": len(list(folder.iterdir())),
                "render_seconds": round(render_seconds, 1),
                "etl_seconds": round(seconds, 2),
                "etl_cpu_seconds": round(busy, 1),
                "etl_steal_seconds": round(stolen, 1),
                "forms_per_second": round(manifest["forms"] / seconds, 1),
                "peak_rss_mb": round(peak),
                "forms_loaded": manifest["forms"],
                "rerun_seconds": round(rerun, 2),
                "rerun_reused": bool(again.get("reused")),
                "text_export_etl_seconds": round(text_seconds, 2),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False))
    new = not RESULTS.exists()
    with open(RESULTS, "a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
