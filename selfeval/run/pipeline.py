"""The ETL run: raw files -> parsed forms -> validated tables in data/processed/ (orchestration only).

Each raw file is parsed on its own (per_file), in worker batches (workers) with --jobs, and
its parse is cached under its sha256 (cache), so a run on an unchanged corpus re-reads
nothing and one changed file re-parses only that file. The tables are streamed to a
staging folder and moved into place together (store.outputs), under a lock (lock).
"""
from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa

from selfeval import compiled
from selfeval.extract.formats import RAW_EXTENSIONS
from selfeval.run.cache import cache_key, code_fingerprint, prune_cache
from selfeval.run.lock import EtlError, acquire, output_errors
from selfeval.run.per_file import source_issues
from selfeval.run.raw_files import raw_files, raw_fingerprint, raw_stats, read_sources
from selfeval.run.workers import GC_THRESHOLDS, BatchTables, gc_thresholds, parse_batch, validated_arrow
from selfeval.schema import fields as schema
from selfeval.schema.fields import FORM_TABLES, TABLE_NAMES
from selfeval.schema.issues import Issue
from selfeval.store import outputs as tables
from selfeval.store.outputs import read_manifest

__all__ = ["EtlError", "collect", "run"]

# Files re-scored together in one worker task (pandas' per-call costs are paid per batch).
BATCH_FILES = 64
# Below this many files, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8


def parse_all(raw_dir: Path, fingerprint: dict[str, str], cache_dir: Path | None, jobs: int, progress: bool,
              append: Callable[[str, pa.Table], None]) -> tuple[list[dict], list[Issue]]:
    """Parse and re-score every raw file, a batch of files at a time; `append(name, table)`
    receives each batch's form tables, in file order, as soon as the batch is done.
    Returns the files table's rows and every issue.

    A file with the same bytes as an earlier one (sha256 from `fingerprint`) is not
    parsed: it is loaded once, under the first name, and reported as a duplicate."""
    sources = read_sources(raw_dir)
    code = code_fingerprint()
    paths = raw_files(raw_dir)
    first_name: dict[str, str] = {}
    duplicate_of: dict[str, str] = {}
    work = []
    for path in paths:
        # a file that arrived after the fingerprint was taken is hashed here
        sha = fingerprint.get(path.name) or hashlib.sha256(path.read_bytes()).hexdigest()
        if sha in first_name:
            duplicate_of[path.name] = first_name[sha]
            continue
        first_name[sha] = path.name
        work.append((path.name, str(path), sources.get(path.name), str(cache_dir) if cache_dir else None,
                     cache_key(sha, code, sources.get(path.name))))
    size = max(1, min(BATCH_FILES, -(-len(work) // (jobs * 4))))  # ceil: several batches per core
    batches = [work[i:i + size] for i in range(0, len(work), size)]
    file_rows: dict[str, dict] = {}
    issues: list[Issue] = []

    def take(done: Iterable[BatchTables]) -> None:
        for batch in _progress(done, len(batches), progress):
            for name, table in batch.tables.items():
                append(name, table)
            issues.extend(batch.issues)
            file_rows.update((row["source_file"], row) for row in batch.file_rows)

    if jobs > 1 and len(work) >= MIN_FILES_FOR_POOL:
        # forkserver: workers start from a clean process instead of a fork of this one,
        # whose Arrow/BLAS threads a fork can leave half-alive (seen as an abort at exit).
        # The server imports what workers run (pandas, pyarrow, pandera...) once, before any
        # thread starts, and each worker is a fork of it: 1.3 s of imports saved per worker.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["selfeval.run.pipeline", "selfeval.score.checks"])
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                 initializer=gc.set_threshold, initargs=GC_THRESHOLDS) as pool:
            take(pool.map(parse_batch, batches))
    else:
        with gc_thresholds(GC_THRESHOLDS):
            take(map(parse_batch, batches))
    rows = []
    for path in paths:
        if path.name not in duplicate_of:
            rows.append(file_rows[path.name])
            continue
        first = file_rows[duplicate_of[path.name]]
        titles = first["titles_seen"]
        # Its forms count as rejected here (loaded once, under the first file), so
        # titles_seen = forms_loaded + forms_rejected holds for every row and in total.
        rows.append({**first, "source_file": path.name, "forms_loaded": 0, "forms_rejected": titles,
                     "duplicate_of": first["source_file"], "status": "duplicate"})
        issues.append(Issue(path.name, None, None, "file", None,
                            f"same content (sha256) as {first['source_file']}; loaded once, its {titles} form(s) "
                            f"counted as rejected here", "warning"))
        issues.extend(source_issues(path.name, first["sha256"], sources.get(path.name)))
    if not paths:
        issues.append(Issue(str(raw_dir), None, None, "file", None,
                            f"no form files ({' '.join(RAW_EXTENSIONS)}) in {raw_dir}", "error"))
    if cache_dir:
        prune_cache(cache_dir, {args[4] for args in work})
    return rows, issues


def collect(raw_dir: Path, cache_dir: Path | None = None, jobs: int = 1, progress: bool = False) -> dict[str, pd.DataFrame]:
    """Parse every raw file and return the validated tables (no writing; for tests and
    small corpora: run() streams the tables to disk instead)."""
    parts: dict[str, list[pa.Table]] = {name: [] for name in FORM_TABLES}
    file_rows, issues = parse_all(Path(raw_dir), raw_fingerprint(Path(raw_dir)), cache_dir, jobs, progress,
                                  lambda name, table: parts[name].append(table))
    frames = {name: schema.to_pandas(pa.concat_tables([schema.arrow_schema(name).empty_table(), *parts[name]]))
              for name in FORM_TABLES}
    # validated per batch already; again as a whole, so tests also catch a key repeated across batches
    frames = {name: schema.validate(name, frame) for name, frame in frames.items()}
    return {**frames, "files": schema.to_pandas(validated_arrow("files", file_rows)),
            "parse_issues": schema.to_pandas(validated_arrow("parse_issues", [vars(i) for i in issues]))}



def _progress(iterable, total: int, enabled: bool):
    """A bar over the batches of files (each up to BATCH_FILES files) on long runs."""
    if not enabled or total < 4:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, total=total, unit="batch", file=sys.stderr)


def run(raw_dir: Path, out_dir: Path, jobs: int = 1, progress: bool = False, use_cache: bool = True) -> dict:
    """Rebuild out_dir from raw_dir. Returns the run summary (also written as run.json)."""
    started = time.time()
    out_dir = Path(out_dir)
    lock = acquire(out_dir)
    try:
        tables.remove_stale_staging(out_dir)  # left by a run that was killed mid-write; safe under the lock
        previous = read_manifest(out_dir)
        stats = raw_stats(raw_dir)  # before hashing: a file changed meanwhile is hashed again next time
        fingerprint = raw_fingerprint(raw_dir, previous)
        code = code_fingerprint()
        if previous and previous.get("raw_files") == fingerprint and previous.get("code") == code \
                and all((out_dir / f"{t}.parquet").exists() for t in previous.get("tables", [])):
            return {**previous, "reused": True, "seconds": round(time.time() - started, 3)}
        with output_errors(out_dir):
            outputs = tables.StagedOutputs(out_dir, {name: schema.arrow_schema(name) for name in TABLE_NAMES})
        with outputs:
            def append(name: str, table: pa.Table) -> None:
                with output_errors(out_dir):
                    outputs.append(name, table)

            file_rows, issues = parse_all(raw_dir, fingerprint, out_dir / ".cache" if use_cache else None, jobs,
                                          progress, append)
            append("files", validated_arrow("files", file_rows))
            append("parse_issues", validated_arrow("parse_issues", [vars(i) for i in issues]))
            summary = {**_summary(outputs.rows, file_rows, issues, fingerprint, code, started), "raw_stats": stats}
            resources = {name: f"{name}.parquet" for name in TABLE_NAMES}
            with output_errors(out_dir):
                outputs.write_text("datapackage.json", schema.datapackage_json(resources))
                outputs.write_text("data_dictionary.md", schema.data_dictionary_markdown())
                outputs.write_text("run.json", json.dumps(summary, ensure_ascii=False, indent=2))
                outputs.commit()
        return {**summary, "reused": False}
    finally:
        lock.release()


def _summary(rows: dict[str, int], files: list[dict], issues: list[Issue], fingerprint: dict, code: str,
             started: float) -> dict:
    return {
        "raw_files": fingerprint,
        "code": code,
        "tables": list(TABLE_NAMES),
        "files": len(files),
        "forms": rows["projects"],
        "forms_rejected": sum(f["forms_rejected"] for f in files),
        "funds": rows["funds"],
        "indicators": rows["indicators"],
        "issues": {s: sum(i.severity == s for i in issues) for s in ("error", "warning", "repaired")},
        "parser": "compiled" if compiled.in_use() else "python",  # same tables; the speed differs
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds": round(time.time() - started, 3),
    }

