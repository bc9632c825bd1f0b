"""The ETL run: raw files -> parsed forms -> validated tables in data/processed/.

Each raw file is parsed on its own (in parallel with --jobs) and its result is
cached under its sha256, so a run on an unchanged corpus re-reads nothing and
one changed file re-parses only that file.
"""
from __future__ import annotations

import csv
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from selfeval import PACKAGE_DIR, compiled, schema, tables, twins
from selfeval.cells import to_rows
from selfeval.form import parse_form
from selfeval.issues import Issue
from selfeval.read import decode, split_forms


class EtlError(Exception):
    """A run that could not write its outputs (locked, read-only or full output folder)."""


@dataclass
class FileResult:
    file_row: dict
    projects: list[dict] = field(default_factory=list)
    funds: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


# Checks whose failure means the totals printed on the form do not add up: reported
# in parse_issues too, where a reader of the parse looks first.
CROSS_TOTALS = ("fund_lines_total_mismatch", "weights_total_mismatch", "score_total_mismatch")
# Files re-scored together in one worker task (pandas' per-call costs are paid per batch).
BATCH_FILES = 64
# The parser and the scoring allocate millions of small dicts and lists, none of them in
# reference cycles (reference counting frees them). At Python's default threshold (700)
# the cycle collector ran every few rows over a growing heap: 15% of the parse time.
GC_THRESHOLDS = (50_000, 50, 100)
# Below this many files, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8


FORM_TABLES = ("projects", "funds", "indicators", "checks")
TABLE_NAMES = (*FORM_TABLES, "files", "parse_issues")


@dataclass
class BatchTables:
    """Several files' part of every form table, re-scored, typed and validated: what a
    worker sends back (Arrow tables: compact to send, and written as they are)."""
    file_rows: list[dict]
    tables: dict[str, pa.Table]
    issues: list[Issue]


def batch_tables(results: list[FileResult]) -> BatchTables:
    """Re-score, type and validate the forms of several files at once (scoring, checks and
    the schema's checks are per form or per row, and a form's rows never span files, so
    any grouping of files gives the same rows; a batch pays pandera's per-call costs once
    for many forms) and add the cross-total failures to the issues. Runs in a worker, so
    both cores share everything but the writing."""
    from selfeval.checks import derive

    derived = derive({part: [row for r in results for row in getattr(r, part)]
                      for part in ("projects", "funds", "indicators")})
    tables = {name: validated_arrow(name, derived[name]) for name in FORM_TABLES}
    issues = [issue for r in results for issue in r.issues]
    source = {p["form_id"]: p["source_file"] for p in derived["projects"]}
    for check in derived["checks"]:
        if check["check"] in CROSS_TOTALS:
            issues.append(Issue(source[check["form_id"]], check["form_id"], check["line"], "total", None,
                                f"totals do not add up ({check['check']}): {check['message']}", "warning"))
    return BatchTables([r.file_row for r in results], tables, issues)


def validated_arrow(name: str, rows: list[dict]) -> pa.Table:
    """One table's rows -> an Arrow table with the declared schema, validated (pandera)."""
    table = schema.rows_to_arrow(name, rows)
    if name == "funds":  # printed as a percentage; a fraction in the table (divided in Arrow: no row copies)
        at = table.schema.get_field_index("execution_rate")
        table = table.set_column(at, table.schema.field(at), pc.divide(table.column(at), 100.0))
    schema.validate(name, schema.to_pandas(table))
    return table


# The modules and vocabularies the tables depend on (not the notebooks' analysis modules:
# editing a chart must not make the next ETL run re-parse the corpus).
ETL_SOURCES = ("pipeline.py", "read.py", "cells.py", "form.py", "numbers.py", "values.py", "scoring.py",
               "checks.py", "schema.py", "tables.py", "issues.py", "vocabulary.py", "twins.py",
               "vocabulary.yaml", "value_vocabulary.yaml",
               "__init__.py", "compiled.py")  # which build of the parser runs (same tables, but be safe)


def code_fingerprint() -> str:
    """Changes whenever the parser, the scoring or a vocabulary changes, invalidating the cache."""
    digest = hashlib.sha256()
    for name in ETL_SOURCES:
        digest.update(name.encode() + (PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def read_sources(raw_dir: Path) -> dict[str, dict]:
    path = raw_dir / "sources.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {row["file_name"]: row for row in csv.DictReader(handle)}


def parse_file(name: str, data: bytes, source: dict | None) -> FileResult:
    """One raw file -> rows for every table. Never raises: a failure becomes an issue."""
    sha = hashlib.sha256(data).hexdigest()
    result = FileResult({"source_file": name, "sha256": sha, "encoding": None, "titles_seen": 0,
                         "forms_loaded": 0, "forms_rejected": 0, "duplicate_of": None, "status": "failed"})
    text, encoding, issues = decode(data, name)
    result.issues += issues
    if text is None:
        return result
    result.file_row["encoding"] = encoding
    chunks, issues = split_forms(text, name, encoding)
    result.issues += issues
    result.file_row["titles_seen"] = len(chunks)
    for chunk in chunks:
        try:
            layout, rows = to_rows(chunk.lines)
            form = parse_form(chunk, layout, rows)
        except Exception as exc:  # a parser bug must not take the other forms down
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       f"parser failed on this form: {last}", "error"))
            result.file_row["forms_rejected"] += 1
            continue
        result.issues += form.issues
        if any(i.severity == "error" for i in form.issues):
            result.file_row["forms_rejected"] += 1
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       "form not loaded because of the error(s) above", "error"))
            continue
        result.file_row["forms_loaded"] += 1
        result.projects.append(tables.project_row(form, source))
        result.funds += form.funds  # rows carry their form_id (form.py)
        result.indicators += form.indicators
    # level labels printed one row off, repaired across the file's twin forms (same unit)
    result.issues += twins.repair(name, result.projects, result.indicators)
    loaded, rejected = result.file_row["forms_loaded"], result.file_row["forms_rejected"]
    result.file_row["status"] = "ok" if not rejected and loaded else ("partial" if loaded else "failed")
    result.issues += source_issues(name, sha, source)
    return result


def source_issues(name: str, sha: str, source: dict | None) -> list[Issue]:
    """What data/raw/sources.csv says about a raw file: changed bytes, or not listed."""
    if source is None:
        return [Issue(name, None, None, "file", None,
                      "file not listed in data/raw/sources.csv; district and year only from the forms", "warning")]
    if source.get("sha256") and source["sha256"] != sha:
        return [Issue(name, None, None, "file", None,
                      "sha256 differs from data/raw/sources.csv: the raw file was changed", "warning")]
    return []


def _parse_batch(batch: list[tuple]) -> BatchTables:
    return batch_tables([_parse_cached(args) for args in batch])


def cache_key(sha: str, code: str, source: dict | None) -> str:
    """A parsed file's cache entry: its bytes (sha256), the parser (code) and its sources.csv row."""
    return hashlib.sha256(f"{sha}:{code}:{json.dumps(source, sort_keys=True)}".encode()).hexdigest()


def prune_cache(cache_dir: Path, keep: set[str]) -> int:
    """Remove the cache entries this run did not use (older parser versions, files since
    removed or changed): the cache holds one corpus, not every corpus it ever saw."""
    removed = 0
    for entry in Path(cache_dir).glob("*.pkl"):
        if entry.stem not in keep:
            try:
                entry.unlink(missing_ok=True)
            except OSError:  # a read-only folder: the cache only saves time
                continue
            removed += 1
    return removed


def _parse_cached(args) -> FileResult:
    name, path, source, cache_dir, key = args
    cached = Path(cache_dir) / f"{key}.pkl" if cache_dir else None
    if cached and cached.exists():
        with open(cached, "rb") as handle:
            return pickle.load(handle)
    result = parse_file(name, Path(path).read_bytes(), source)
    if cached:
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")  # per process: two workers may parse the same bytes
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                pickle.dump(result, handle)
            tmp.replace(cached)
        except OSError:
            # The cache only saves time. A read-only or full output folder used to end
            # the run here with a traceback; now the run goes on and writing the outputs
            # reports the folder as an EtlError (exit 2) with the outputs untouched.
            tmp.unlink(missing_ok=True)
    return result


def raw_files(raw_dir: Path) -> list[Path]:
    return sorted(p for p in raw_dir.glob("*.txt") if p.is_file())


def raw_fingerprint(raw_dir: Path, previous: dict | None = None) -> dict[str, str]:
    """sha256 per raw file. With the previous run's manifest, a file whose size,
    modification time and inode are those recorded there keeps its recorded sha256
    instead of being read again (as git and make do): an unchanged corpus of 100,000
    forms is checked in milliseconds instead of the second that hashing 160 MB takes."""
    known = (previous or {}).get("raw_files", {})
    stats = (previous or {}).get("raw_stats", {})
    return {p.name: known[p.name] if p.name in known and stats.get(p.name) == _stat(p)
            else hashlib.sha256(p.read_bytes()).hexdigest() for p in raw_files(raw_dir)}


def raw_stats(raw_dir: Path) -> dict[str, list[int]]:
    return {p.name: _stat(p) for p in raw_files(raw_dir)}


def _stat(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


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
        context.set_forkserver_preload(["selfeval.pipeline", "selfeval.checks"])
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                 initializer=gc.set_threshold, initargs=GC_THRESHOLDS) as pool:
            take(pool.map(_parse_batch, batches))
    else:
        with _gc_thresholds(GC_THRESHOLDS):
            take(map(_parse_batch, batches))
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
        issues.append(Issue(str(raw_dir), None, None, "file", None, f"no *.txt files in {raw_dir}", "error"))
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


def _validated(rows: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    """Every table's rows -> typed, validated frames, the way a run makes them."""
    return {name: schema.to_pandas(validated_arrow(name, table_rows)) for name, table_rows in rows.items()}


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
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(out_dir / ".etl.lock"), timeout=0)
        lock.acquire()
    except Timeout:
        raise EtlError(f"another ETL run is writing to {out_dir} (lock {out_dir / '.etl.lock'}); "
                       "wait for it to finish and run again") from None
    except OSError as exc:
        raise EtlError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None
    try:
        tables.remove_stale_staging(out_dir)  # left by a run that was killed mid-write; safe under the lock
        previous = read_manifest(out_dir)
        stats = raw_stats(raw_dir)  # before hashing: a file changed meanwhile is hashed again next time
        fingerprint = raw_fingerprint(raw_dir, previous)
        code = code_fingerprint()
        if previous and previous.get("raw_files") == fingerprint and previous.get("code") == code \
                and all((out_dir / f"{t}.parquet").exists() for t in previous.get("tables", [])):
            return {**previous, "reused": True, "seconds": round(time.time() - started, 3)}
        with _output_errors(out_dir):
            outputs = tables.StagedOutputs(out_dir, {name: schema.arrow_schema(name) for name in TABLE_NAMES})
        with outputs:
            def append(name: str, table: pa.Table) -> None:
                with _output_errors(out_dir):
                    outputs.append(name, table)

            file_rows, issues = parse_all(raw_dir, fingerprint, out_dir / ".cache" if use_cache else None, jobs,
                                          progress, append)
            append("files", validated_arrow("files", file_rows))
            append("parse_issues", validated_arrow("parse_issues", [vars(i) for i in issues]))
            summary = {**_summary(outputs.rows, file_rows, issues, fingerprint, code, started), "raw_stats": stats}
            resources = {name: f"{name}.parquet" for name in TABLE_NAMES}
            with _output_errors(out_dir):
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


@contextmanager
def _gc_thresholds(thresholds: tuple[int, int, int]):
    """GC_THRESHOLDS while parsing in this process, the caller's settings restored after."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def _output_errors(out_dir: Path):
    """An OSError while writing the outputs (read-only or full folder) as an EtlError."""
    try:
        yield
    except OSError as exc:
        raise EtlError(f"cannot write outputs to {out_dir}: {exc.strerror or exc}; "
                       "the previous outputs were left as they were") from None


def read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_tables(out_dir: Path, names=None) -> dict[str, pd.DataFrame]:
    manifest = read_manifest(out_dir) or {}
    return {name: read_table(Path(out_dir) / f"{name}.parquet") for name in (names or manifest.get("tables", []))}


def read_table(path: Path) -> pd.DataFrame:
    """A table (its .parquet path) as a DataFrame with the schema's pandas dtypes: from the
    Arrow IPC copy beside it, memory-mapped, when there is one (tables.StagedOutputs),
    else from the Parquet file. Text stays in Arrow memory (string[pyarrow]) instead of
    becoming one Python object per cell: at 100,000 forms that alone took 9 s."""
    arrow = Path(path).with_suffix(".arrow")
    if arrow.exists():
        with pa.memory_map(str(arrow)) as source:
            return schema.to_pandas(pa.ipc.open_file(source).read_all())
    return schema.to_pandas(pq.read_table(path))
