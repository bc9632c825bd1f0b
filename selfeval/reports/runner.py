"""Scheduled report run: execute the analysis notebooks and publish HTML.

Usage (non-interactive; exit status 1 if any report failed, 2 on a usage or
configuration error)::

    python -m selfeval.reports.runner [--config config/reports.yaml]
                               [--only NOTEBOOK_STEM ...] [--sets NAME ...]
                               [--show-code] [--kernel NAME]

For every notebook x parameter set in the config (``config/reports.yaml``,
format documented there and in :func:`load_config`) the runner

1. executes the notebook with papermill (cwd = project root), injecting the
   set's parameters plus ``processed_dir`` and ``figures_dir``;
2. writes the executed notebook to ``executed/<stem>__<set>.ipynb``, the
   report (selfeval.reports.pages: its outputs in the project's own offline page,
   code hidden unless ``--show-code``) to ``html/<stem>__<set>.html`` and its
   figures page to ``html/<stem>__<set>.figures.html``;
3. rewrites ``index.html`` (a grid notebook x set with each report's headline
   numbers from its findings.json) / ``index.json`` after each report, and
   logs everything to ``runs/<timestamp>.log``.

Before the reports it copies ``selfeval/assets`` to ``assets/`` and writes a
page per form (``forms/``); after them, a one-page briefing per unit
(``briefings/``, HTML and a PDF printed by headless Chromium).

All paths are under the output folder (``reports/`` by default)::

    reports/
      index.html, index.json
      html/<stem>__<set>.html
      executed/<stem>__<set>.ipynb
      executed/failed/<stem>__<set>.ipynb   last failed execution, for debugging
      figures/<stem>/<set>/                 the notebook's figures_dir
      runs/<timestamp>.log

Every file is written to a temporary file in its destination folder and then
``os.replace``-d, so readers never see half-written output. A report that
fails keeps its last good HTML and executed notebook; the failed execution is
kept under ``executed/failed/`` and the other reports still run.

Conventions for notebooks (nothing to import from this module):

* a cell tagged ``parameters`` defining ``district``, ``department``,
  ``year``, ``lang``, ``processed_dir`` and ``figures_dir`` (papermill
  injects the real values after it);
* figures go into ``figures_dir`` via ``selfeval.analysis.charts.save_figure``;
* numbers worth checking (by tests, the index's headline numbers) go into
  ``<figures_dir>/findings.json``, a flat JSON object written by the notebook
  (``ctx.record``);
* show everything through ``selfeval.analysis.notebook.Context`` (``ctx.table``,
  ``ctx.chart``, ``ctx.findings``...), which escapes every value; never paste
  a parameter or a form's text into ``IPython.display.HTML`` yourself (a
  department name is text, not markup).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from selfeval.paths import ROOT
from selfeval.store.outputs import atomic_write  # noqa: F401  (one atomic, world-readable writer)

# A fixed name: under `python -m` __name__ would be "__main__".
log = logging.getLogger("selfeval.reports.runner")

PACKAGE_ROOT = ROOT  # the project: notebooks/, config/, data/
DEFAULT_CONFIG = PACKAGE_ROOT / "config" / "reports.yaml"
DEFAULT_KERNEL = "selfeval"  # registered by `make setup`
FALLBACK_KERNEL = "python3"  # ipykernel's own kernel, always present with ipykernel
DEFAULT_TIMEOUT_SECONDS = 600
# The parameters every notebook declares in its `parameters` cell (processed_dir and figures_dir: set here).
NOTEBOOK_PARAMETERS = ("district", "department", "year", "lang")
DEFAULT_PARAMS = {"district": "all", "department": "all", "year": "all", "lang": "zh"}
LANGS = ("zh", "en")

# Set names and notebook stems become file names and URL parts: keep them tame.
_SET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CONFIG_KEYS = {
    "kernel", "timeout_seconds", "processed_dir", "raw_dir", "output_dir",
    "defaults", "notebooks", "parameter_sets",
}  # fmt: skip


class ConfigError(ValueError):
    """The reports config is malformed."""


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NotebookSpec:
    path: Path  # absolute
    sets: tuple[str, ...] | None  # None: every parameter set

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclasses.dataclass(frozen=True)
class ParameterSet:
    name: str
    params: dict


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    notebooks: tuple[NotebookSpec, ...]
    parameter_sets: tuple[ParameterSet, ...]
    kernel: str
    timeout_seconds: int
    project_root: Path
    processed_dir: Path
    raw_dir: Path
    output_dir: Path


@dataclasses.dataclass(frozen=True)
class Job:
    notebook: NotebookSpec
    pset: ParameterSet

    @property
    def report_id(self) -> str:
        return f"{self.notebook.stem}__{self.pset.name}"


def _resolve(root: Path, value) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (root / path).resolve()


def _check_params(name: str, params: dict) -> None:
    if params.get("lang") not in LANGS:
        raise ConfigError(f"parameter set {name!r}: lang must be one of {LANGS}, got {params.get('lang')!r}")
    year = params.get("year")
    if year != "all" and (isinstance(year, bool) or not isinstance(year, int)):
        raise ConfigError(f"parameter set {name!r}: year must be 'all' or an integer, got {year!r}")
    unknown = sorted(str(key) for key in params if key not in (*NOTEBOOK_PARAMETERS, "processed_dir", "figures_dir"))
    if unknown:
        raise ConfigError(
            f"parameter set {name!r}: unknown parameter(s) {', '.join(unknown)}; the notebooks take "
            f"{', '.join(NOTEBOOK_PARAMETERS)}"
        )
    for key, value in params.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(f"parameter set {name!r}: parameter name {key!r} is not a Python identifier")
        if key in ("processed_dir", "figures_dir"):
            raise ConfigError(f"parameter set {name!r}: {key} is set by the runner, not the config")
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise ConfigError(f"parameter set {name!r}: {key} must be a plain value, got {type(value).__name__}")


def load_config(path=DEFAULT_CONFIG, project_root=None, output_dir=None) -> ReportConfig:
    """Read and validate the reports config.

    Relative paths in the file are relative to *project_root* (default: the
    folder that contains the ``selfeval`` package). *output_dir* overrides the
    file's ``output_dir`` (tests point it at a temporary folder).
    """
    path = Path(path)
    root = Path(project_root).resolve() if project_root else PACKAGE_ROOT
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    unknown = set(raw) - _CONFIG_KEYS
    if unknown:  # most likely a typo; silently ignoring it would hide the mistake
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(_CONFIG_KEYS)}")

    defaults = {**DEFAULT_PARAMS, **(raw.get("defaults") or {})}
    psets: list[ParameterSet] = []
    for item in raw.get("parameter_sets") or []:
        if not isinstance(item, dict) or "name" not in item:
            raise ConfigError(f"{path}: every parameter set needs a name, got {item!r}")
        name = str(item["name"])
        if not _SET_NAME_RE.match(name):
            raise ConfigError(f"{path}: set name {name!r} must match {_SET_NAME_RE.pattern} (it becomes a file name)")
        if any(p.name == name for p in psets):
            raise ConfigError(f"{path}: duplicate parameter set {name!r}")
        params = {**defaults, **(item.get("params") or {})}
        _check_params(name, params)
        psets.append(ParameterSet(name, params))
    if not psets:
        raise ConfigError(f"{path}: no parameter_sets")

    set_names = {p.name for p in psets}
    notebooks: list[NotebookSpec] = []
    for item in raw.get("notebooks") or []:
        item = {"path": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or "path" not in item:
            raise ConfigError(f"{path}: every notebook needs a path, got {item!r}")
        nb_path = _resolve(root, item["path"])
        if nb_path.suffix != ".ipynb" or not _STEM_RE.match(nb_path.stem):
            raise ConfigError(f"{path}: notebook {item['path']!r} must be an .ipynb with a plain ASCII name")
        if any(n.stem == nb_path.stem for n in notebooks):
            raise ConfigError(f"{path}: two notebooks named {nb_path.stem!r}")
        only_sets = item.get("sets")
        if only_sets is not None:
            only_sets = tuple(str(s) for s in only_sets)
            missing = set(only_sets) - set_names
            if missing:
                raise ConfigError(f"{path}: notebook {nb_path.stem} lists unknown sets {sorted(missing)}")
        notebooks.append(NotebookSpec(nb_path, only_sets))
    if not notebooks:
        raise ConfigError(f"{path}: no notebooks")

    timeout = raw.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ConfigError(f"{path}: timeout_seconds must be a positive integer, got {timeout!r}")
    return ReportConfig(
        notebooks=tuple(notebooks),
        parameter_sets=tuple(psets),
        kernel=str(raw.get("kernel") or DEFAULT_KERNEL),
        timeout_seconds=timeout,
        project_root=root,
        processed_dir=_resolve(root, raw.get("processed_dir", "data/processed")),
        raw_dir=_resolve(root, raw.get("raw_dir", "data/raw")),
        output_dir=Path(output_dir).resolve() if output_dir else _resolve(root, raw.get("output_dir", "reports")),
    )


def plan(config: ReportConfig, only: Iterable[str] | None = None, sets: Iterable[str] | None = None) -> list[Job]:
    """The notebook x parameter-set runs, in config order, optionally narrowed."""
    only = list(only or [])
    sets = list(sets or [])
    known_stems = {n.stem for n in config.notebooks}
    known_sets = {p.name for p in config.parameter_sets}
    # Notebook stems may be given with or without .ipynb / folder, for convenience.
    only = [Path(o).stem for o in only]
    if set(only) - known_stems:
        raise ConfigError(f"--only: unknown notebooks {sorted(set(only) - known_stems)}; known: {sorted(known_stems)}")
    if set(sets) - known_sets:
        raise ConfigError(
            f"--sets: unknown parameter sets {sorted(set(sets) - known_sets)}; known: {sorted(known_sets)}"
        )
    jobs = []
    for nb in config.notebooks:
        if only and nb.stem not in only:
            continue
        for pset in config.parameter_sets:
            if nb.sets is not None and pset.name not in nb.sets:
                continue  # the notebook opted out of this set
            if sets and pset.name not in sets:
                continue
            jobs.append(Job(nb, pset))
    return jobs


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def tables_fingerprint(processed_dir) -> str:
    """The fingerprint of the tables the reports read: first 12 hex digits of sha256 over their
    run.json's raw-file hashes and code fingerprint (what the ETL built them from). Reports never
    rebuild tables, so the index names these, not whatever raw folder exists now. "missing"
    without tables."""
    try:
        manifest = json.loads((Path(processed_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "missing"
    basis = json.dumps({"raw_files": manifest.get("raw_files"), "code": manifest.get("code")}, sort_keys=True)
    return hashlib.sha256(basis.encode()).hexdigest()[:12]


def error_summary(exc: BaseException) -> str:
    """The last line of an error, as shown in the index ("ValueError: ...")."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    # papermill's PapermillExecutionError carries the notebook's own exception.
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    lines = [ln.strip() for ln in _ANSI_RE.sub("", text).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def resolve_kernel(name: str, strict: bool = False) -> str:
    """*name* if that Jupyter kernel is installed, else the python3 fallback.

    With *strict* (a kernel given on the command line) a missing kernel is an
    error instead: falling back would silently run a different environment.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    available = KernelSpecManager().find_kernel_specs()
    if name in available:
        return name
    if strict or FALLBACK_KERNEL not in available:
        raise ConfigError(
            f"Jupyter kernel {name!r} is not installed (available: {sorted(available)}); run `make setup`"
        )
    log.warning("kernel %r is not installed (run `make setup`); falling back to %r", name, FALLBACK_KERNEL)
    return FALLBACK_KERNEL


@contextlib.contextmanager
def _run_log(log_path: Path) -> Iterator[None]:
    """Send this module's and papermill's log records to *log_path*."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    loggers = [log, logging.getLogger("papermill")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


# ---------------------------------------------------------------------------
# One report
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class ReportResult:
    notebook: str
    set: str
    params: dict
    status: str  # "ok" | "failed"
    error: str | None
    seconds: float
    finished_at: str
    data_fingerprint: str
    # Paths relative to the output folder (None when the file does not exist).
    html: str | None
    executed: str | None
    failed_notebook: str | None
    figures_dir: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _relative(path: Path, root: Path) -> str | None:
    return path.relative_to(root).as_posix() if path.exists() else None


def notebook_to_html(nb, title: str, show_code: bool = False) -> str:
    """A bare rendering of an executed notebook (its outputs, and its code with
    *show_code*), offline: no script or style from outside the machine."""
    from selfeval.analysis.present import e
    from selfeval.reports import pages

    body = pages.notebook_body(nb, forms="../forms/", figures="", show_code=show_code)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{e(title)}</title></head><body>{body}</body></html>'
    )


class _IPCKernelManager:
    """Kernels talk to papermill over a local socket file instead of loopback TCP: nothing
    listens on a port, and ipykernel has no reason to warn "Kernel is running over TCP
    without encryption" once per report; and no SIGINT at shutdown (see below)."""

    @staticmethod
    def make():
        from jupyter_client.manager import AsyncKernelManager

        class IPCKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                kwargs.setdefault("transport", "ipc")
                super().__init__(**kwargs)

            async def _async_interrupt_kernel(self) -> None:
                # jupyter_client sends SIGINT before every shutdown request; a kernel
                # that is still handling a message then logs "ERROR | KeyboardInterrupt
                # caught in kernel" on our terminal. A finished notebook has nothing to
                # interrupt; a cell that times out is still interrupted (not shutting down).
                if self.shutting_down:
                    return
                await super()._async_interrupt_kernel()

        return IPCKernelManager


STAGING_PREFIX = ".staging-"  # a report's figures while it runs (run_report)


def _replace_folder(new: Path, target: Path) -> None:
    """Put *new* where *target* is, keeping the old one until the new one is in place."""
    old = target.with_name(f".old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(out: Path) -> list[Path]:
    """What a killed report run leaves: papermill's hidden temporary notebooks in executed/ and
    staging figure folders. Called under the run lock, so none of them belongs to a live run."""
    found = [
        *(out / "executed").glob(".*.ipynb"),
        *(out / "figures").glob(f"*/{STAGING_PREFIX}*"),
        *(out / "figures").glob("*/.old-*"),
    ]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def run_report(
    job: Job, config: ReportConfig, *, kernel: str, show_code: bool, fingerprint: str, meta: dict | None = None
) -> ReportResult:
    """Execute one notebook with one parameter set; never raises for notebook errors."""
    import nbformat
    import papermill as pm

    out = config.output_dir
    rid = job.report_id
    html_path = out / "html" / f"{rid}.html"
    executed_path = out / "executed" / f"{rid}.ipynb"
    failed_path = out / "executed" / "failed" / f"{rid}.ipynb"
    figures_dir = out / "figures" / job.notebook.stem / job.pset.name
    # The notebook writes its charts, tables and findings.json into a staging folder, which
    # replaces the report's figures only when the report succeeds: a failed run keeps the last
    # good findings.json and charts, like its HTML (issue 15).
    staging = figures_dir.with_name(f"{STAGING_PREFIX}{figures_dir.name}")
    shutil.rmtree(staging, ignore_errors=True)
    for folder in (html_path.parent, executed_path.parent, staging):
        folder.mkdir(parents=True, exist_ok=True)
    parameters = {**job.pset.params, "processed_dir": str(config.processed_dir), "figures_dir": str(staging)}

    # papermill saves the notebook while it runs; point it at a temp file so
    # the published executed notebook is only replaced after a full success.
    fd, tmp_name = tempfile.mkstemp(dir=executed_path.parent, prefix=f".{rid}.", suffix=".ipynb")
    os.close(fd)
    tmp_ipynb = Path(tmp_name)
    log.info("start %s kernel=%s params=%s", rid, kernel, parameters)
    started = time.monotonic()
    error = None
    try:
        pm.execute_notebook(
            str(job.notebook.path),
            str(tmp_ipynb),
            parameters=parameters,
            kernel_name=kernel,
            cwd=str(config.project_root),
            execution_timeout=config.timeout_seconds,  # per cell, enforced by nbclient
            progress_bar=False,
            log_output=True,  # cell output goes to the run log
            kernel_manager_class=_IPCKernelManager.make(),
        )
        _replace_folder(staging, figures_dir)
        nb = nbformat.read(tmp_ipynb, as_version=4)
        from selfeval.reports import pages

        page_args: dict[str, Any] = dict(
            stem=job.notebook.stem,
            params=job.pset.params,
            html_path=html_path,
            figures_dir=figures_dir,
            out=out,
            meta=meta or {},
        )
        atomic_write(html_path, pages.report_page(nb, show_code=show_code, **page_args))
        atomic_write(html_path.with_name(f"{rid}.figures.html"), pages.gallery_page(nb, **page_args))
        os.chmod(tmp_ipynb, 0o644)
        os.replace(tmp_ipynb, executed_path)
        # A success makes any earlier failure copy obsolete.
        with contextlib.suppress(FileNotFoundError):
            failed_path.unlink()
    except Exception as exc:  # noqa: BLE001 - one failed report must not stop the others
        error = error_summary(exc)
        log.error("FAILED %s: %s", rid, error, exc_info=True)
        if tmp_ipynb.exists() and tmp_ipynb.stat().st_size > 0:
            failed_path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp_ipynb, 0o644)
            os.replace(tmp_ipynb, failed_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_ipynb.unlink()  # only left over if nothing above moved it
        shutil.rmtree(staging, ignore_errors=True)  # a failed run's partial figures
    seconds = round(time.monotonic() - started, 1)
    log.info("%s %s in %.1f s", "ok" if error is None else "failed", rid, seconds)
    return ReportResult(
        notebook=job.notebook.stem,
        set=job.pset.name,
        params=dict(job.pset.params),
        status="ok" if error is None else "failed",
        error=error,
        seconds=seconds,
        finished_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        data_fingerprint=fingerprint,
        html=_relative(html_path, out),  # after a failure: the last good HTML, if any
        executed=_relative(executed_path, out),
        failed_notebook=None if error is None else _relative(failed_path, out),
        figures_dir=figures_dir.relative_to(out).as_posix() + "/",
    )


# ---------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------
def run_meta(config: ReportConfig, fingerprint: str) -> dict:
    """What every page's footer and the index name once: generation time (Beijing), data
    fingerprint, source files, numbers of forms and files."""
    from selfeval.reports import pages

    sources = sorted(p.name for p in config.raw_dir.glob("*.txt")) if config.raw_dir.is_dir() else []
    meta = {
        "generated": pages.beijing_time(),
        "fingerprint": fingerprint,
        "sources": "、".join(sources) or "—",
        "files": len(sources),
        "forms": "—",
    }
    projects = config.processed_dir / "projects.parquet"
    if projects.is_file():
        import pyarrow.parquet as pq

        meta["forms"] = pq.ParquetFile(projects).metadata.num_rows
    return meta


def render_index_html(
    records: list[dict], generated_at: str, fingerprint: str, out: Path | None = None, sets=None, stems=None
) -> str:
    """The index page (pages.index_page) for *records*; every text from data or config is escaped."""
    from selfeval.reports import pages

    sets = sets or list({r["set"]: (r["set"], r["params"]) for r in records}.values())
    stems = stems or list(dict.fromkeys(r["notebook"] for r in records))
    meta = {"generated": generated_at, "fingerprint": fingerprint, "sources": "—"}
    return pages.index_page(records, out=out or Path("."), meta=meta, sets=sets, stems=stems, briefings=[])


def _load_previous_index(path: Path) -> dict[tuple[str, str], dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(r["notebook"], r["set"]): r for r in data.get("reports", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no or unreadable index: start afresh


def write_index(
    config: ReportConfig, results: list[ReportResult], fingerprint: str, meta: dict | None = None
) -> list[dict]:
    """Merge *results* into index.json/index.html and write both atomically.

    Reports not run this time (``--only``/``--sets``) keep their previous
    row, so a partial run does not wipe the index. Rows follow config order;
    reports no longer in the config are dropped.
    """
    out = config.output_dir
    records = _load_previous_index(out / "index.json")
    records.update({(r.notebook, r.set): dataclasses.asdict(r) for r in results})
    ordered = [records[key] for job in plan(config) if (key := (job.notebook.stem, job.pset.name)) in records]
    from selfeval.reports import pages

    meta = meta or run_meta(config, fingerprint)
    generated_at = dt.datetime.now(pages.BEIJING).isoformat(timespec="seconds")
    index = {"generated_at": generated_at, "data_fingerprint": fingerprint, "reports": ordered}
    atomic_write(out / "index.json", json.dumps(index, ensure_ascii=False, indent=2) + "\n")
    sets = [(p.name, p.params) for p in config.parameter_sets]
    stems = [n.stem for n in config.notebooks]
    atomic_write(
        out / "index.html",
        pages.index_page(ordered, out=out, meta=meta, sets=sets, stems=stems, briefings=meta.get("briefings", [])),
    )
    return ordered


# ---------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------
def run_reports(
    config_path=DEFAULT_CONFIG,
    *,
    project_root=None,
    output_dir=None,
    only: Iterable[str] | None = None,
    sets: Iterable[str] | None = None,
    show_code: bool = False,
    kernel: str | None = None,
    on_result: Callable[[ReportResult], None] | None = None,
) -> list[ReportResult]:
    """Run the configured reports; returns one result per report run.

    *project_root* (notebook cwd, base of relative config paths) and
    *output_dir* (default ``<project_root>/reports``) are arguments so tests
    can run against temporary folders. *kernel* given here must exist; the
    config's kernel falls back to python3. *on_result* is called after each
    report (the CLI prints a line).
    """
    from filelock import FileLock, Timeout

    config = load_config(config_path, project_root=project_root, output_dir=output_dir)
    jobs = plan(config, only=only, sets=sets)
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)

    # Two overlapping runs (cron + a manual run) would overwrite each other's
    # files; refuse to start instead of waiting behind a long run.
    lock = FileLock(str(out / ".run.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RuntimeError(f"another report run is in progress (lock {out / '.run.lock'})") from None
    try:
        remove_leftovers(out)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        with _run_log(out / "runs" / f"{stamp}.log"):
            kernel_name = resolve_kernel(kernel, strict=True) if kernel else resolve_kernel(config.kernel)
            fingerprint = tables_fingerprint(config.processed_dir)
            log.info("report run: %d reports, kernel %s, data %s", len(jobs), kernel_name, fingerprint)
            from selfeval.reports import pages

            meta = run_meta(config, fingerprint)
            pages.install_assets(out)
            _write_form_pages(config, meta)
            results: list[ReportResult] = []
            for job in jobs:
                result = run_report(
                    job, config, kernel=kernel_name, show_code=show_code, fingerprint=fingerprint, meta=meta
                )
                results.append(result)
                # Rewrite the index after every report: it shows progress and
                # stays correct if the run is killed part-way.
                write_index(config, results, fingerprint, meta)
                if on_result:
                    on_result(result)
            _write_briefings(config, meta)
            write_index(config, results, fingerprint, meta)
            log.info("done: %d ok, %d failed", sum(r.ok for r in results), sum(not r.ok for r in results))
            return results
    finally:
        lock.release()


def _processed_tables(config: ReportConfig) -> dict | None:
    from selfeval.store import outputs

    if not (config.processed_dir / "projects.parquet").is_file():
        return None  # no ETL output (a test project): nothing to link to
    return outputs.read_tables(config.processed_dir, ["projects", "indicators", "checks", "files"])


def _write_form_pages(config: ReportConfig, meta: dict) -> None:
    """reports/forms/: a page per form, which every report's form links point at."""
    from selfeval.reports import pages

    tables = _processed_tables(config)
    if tables is None:
        log.info("no processed tables in %s: no form pages", config.processed_dir)
        return
    n = pages.write_form_pages(config.output_dir, tables, config.raw_dir, meta, atomic_write)
    log.info("form pages: %d forms", n)


def _write_briefings(config: ReportConfig, meta: dict) -> None:
    """reports/briefings/: one A4 page per unit (briefing.py), when that module is present."""
    try:
        from selfeval.reports import briefing
    except ImportError:
        return
    tables = _processed_tables(config)
    if tables is None:
        return
    meta["briefings"] = briefing.write_all(config.output_dir, tables, meta, atomic_write)


def _print_result(result: ReportResult) -> None:
    where = result.html if result.ok else result.error
    print(f"{result.status:<6} {result.notebook} / {result.set}  ({result.seconds:.1f} s)  {where}", flush=True)


def main(argv: list[str] | None = None, prog: str = "selfeval report") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="reports config (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK_STEM", help="run only these notebooks")
    parser.add_argument("--sets", nargs="+", metavar="NAME", help="run only these parameter sets")
    parser.add_argument("--show-code", action="store_true", help="keep code cells in the HTML")
    parser.add_argument("--kernel", help="Jupyter kernel (default: the config's, falling back to python3)")
    parser.add_argument("--project-root", help=argparse.SUPPRESS)
    parser.add_argument("--output-dir", help="output folder (default: the config's output_dir, reports/)")
    parser.add_argument(
        "--screenshots", metavar="DIR", help="run nothing: screenshot the existing reports (headless Chromium) into DIR"
    )
    args = parser.parse_args(argv)
    if args.screenshots:
        from selfeval.reports import browser

        config = load_config(args.config, project_root=args.project_root, output_dir=args.output_dir)
        for shot, visit in browser.screenshots(config.output_dir, Path(args.screenshots)):
            print(f"{'ok' if visit.clean else 'problems'}  {shot}", flush=True)
        return 0
    # Warnings (e.g. the kernel fallback) also belong on the terminal; errors
    # are already summarised in the per-report lines, tracebacks are in the log.
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("warning: %(message)s"))
    console.addFilter(lambda record: record.levelno == logging.WARNING)
    log.addHandler(console)
    try:
        results = run_reports(
            args.config,
            project_root=args.project_root,
            output_dir=args.output_dir,
            only=args.only,
            sets=args.sets,
            show_code=args.show_code,
            kernel=args.kernel,
            on_result=_print_result,
        )
    except (ConfigError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        log.removeHandler(console)
    failed = sum(not r.ok for r in results)
    config = load_config(args.config, project_root=args.project_root, output_dir=args.output_dir)
    # One line per report above; the last line says how it went and where to look.
    print(f"{len(results) - failed} ok, {failed} failed: {config.output_dir / 'index.html'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
