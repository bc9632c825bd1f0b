"""The parse cache (one entry per raw file's bytes, parser and sources.csv row) and the code fingerprint.

The fingerprint covers every file of the sub-packages the tables depend on (ETL_PACKAGES),
found by folder: editing a chart must not make the next run re-parse the corpus, and a new
parser module can never be forgotten in a list.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

from selfeval.paths import PACKAGE_DIR
from selfeval.run.per_file import FileResult, parse_file

# The sub-packages whose code and data decide the tables (not analysis/ or reports/).
ETL_PACKAGES = ("vocab", "schema", "extract", "parse", "score", "store", "run")


def etl_sources() -> list[Path]:
    """Every source and data file of ETL_PACKAGES (compiled extensions excluded: built from these)."""
    return sorted(path for package in ETL_PACKAGES for path in (PACKAGE_DIR / package).rglob("*")
                  if path.suffix in (".py", ".yaml", ".csv", ".json") and "__pycache__" not in path.parts)


def code_fingerprint() -> str:
    """Changes whenever the parser, the scoring, the schema or a vocabulary changes, invalidating the cache."""
    digest = hashlib.sha256()
    for path in etl_sources():
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


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


def cached_parse(args) -> FileResult:
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

