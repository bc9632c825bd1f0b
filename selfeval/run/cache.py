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
from collections.abc import Iterator
from pathlib import Path

from selfeval.paths import PACKAGE_DIR
from selfeval.run.per_file import FileResult, failed_read, parse_parts

# The sub-packages whose code and data decide the tables (not analysis/ or reports/).
ETL_PACKAGES = ("vocab", "schema", "extract", "parse", "score", "store", "run")


def etl_sources() -> list[Path]:
    """Every source and data file of ETL_PACKAGES (compiled extensions excluded: built from these)."""
    return sorted(
        path
        for package in ETL_PACKAGES
        for path in (PACKAGE_DIR / package).rglob("*")
        if path.suffix in (".py", ".yaml", ".csv", ".json") and "__pycache__" not in path.parts
    )


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
    for entry in [*Path(cache_dir).glob("*.pkl"), *Path(cache_dir).glob("*.tmp")]:
        if entry.stem not in keep:
            try:
                entry.unlink(missing_ok=True)
            except OSError:  # a read-only folder: the cache only saves time
                continue
            removed += 1
    return removed


# A cache entry: the pickled parts of a file (rows of at most FORMS_PER_PART forms each), its
# files-table row, then this mark and the sha256 of everything before it. An entry is used only
# when the digest matches: a 0-byte, truncated or garbled entry (a crash, a full disk) is ignored,
# removed and replaced, never a reason for a run to fail.
_MARK = b"SELFEVAL-CACHE-2"
_TRAILER = len(_MARK) + 32
_BLOCK = 1 << 20


def _verified(entry: Path) -> int | None:
    """The length of the entry's body when its digest matches, else None."""
    try:
        size = entry.stat().st_size
        if size < _TRAILER:
            return None
        digest = hashlib.sha256()
        with open(entry, "rb") as handle:
            left = size - _TRAILER
            while left:
                block = handle.read(min(_BLOCK, left))
                if not block:
                    return None
                digest.update(block)
                left -= len(block)
            trailer = handle.read(_TRAILER)
    except OSError:
        return None
    return size - _TRAILER if trailer == _MARK + digest.digest() else None


def _cached_parts(entry: Path, body: int) -> Iterator[FileResult]:
    row: dict = {}  # filled from the entry's last object: every part shares the final file row
    with open(entry, "rb") as handle:
        while handle.tell() < body:
            item = pickle.load(handle)
            if isinstance(item, dict):
                row.update(item)
                continue
            projects, funds, indicators, issues = item
            yield FileResult(row, projects, funds, indicators, issues)


def parse_file(name: str, data: bytes, source: dict | None) -> Iterator[FileResult]:
    """What a cache miss runs: the file parsed, as parts (per_file.parse_parts)."""
    return parse_parts(name, data, source)


def file_parts(args) -> Iterator[FileResult]:
    """One raw file's parts, from the cache when an entry for its bytes is there and sound, else
    parsed (and cached under the sha256 of the bytes that were parsed: a file replaced after it
    was hashed is never cached under the other bytes' hash). Never raises for a file that
    cannot be read (moved away during the run): that is a failed file with its reason."""
    name, path, source, cache_dir, code, known_sha = args
    if cache_dir and known_sha:
        entry = Path(cache_dir) / f"{cache_key(known_sha, code, source)}.pkl"
        body = _verified(entry) if entry.exists() else None
        if body is not None:
            yield from _cached_parts(entry, body)
            return
        if entry.exists():
            try:
                entry.unlink()  # a damaged entry: replaced below
            except OSError:
                pass
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        yield failed_read(
            name,
            f"cannot be read ({exc.strerror or exc}); moved or deleted during the run? Run again once the file is back",
        )
        return
    sha = hashlib.sha256(data).hexdigest()
    parts = parse_file(name, data, source)
    del data
    writer = _EntryWriter(Path(cache_dir) / f"{cache_key(sha, code, source)}.pkl") if cache_dir else None
    try:
        for part in parts:
            if writer:
                writer.add((part.projects, part.funds, part.indicators, part.issues))
            yield part
        if writer:
            writer.finish(part.file_row)
    finally:
        if writer:
            writer.discard()


class _EntryWriter:
    """Writes a cache entry as the parts come; best-effort: any OSError stops caching, never the run."""

    def __init__(self, entry: Path):
        self.entry = entry
        self.tmp = entry.with_suffix(f".{os.getpid()}.tmp")  # per process: two workers may parse the same bytes
        self.digest = hashlib.sha256()
        self.handle = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.tmp, "wb")
        except OSError:
            # The cache only saves time. A read-only or full output folder used to end
            # the run here with a traceback; now the run goes on and writing the outputs
            # reports the folder as an EtlError (exit 2) with the outputs untouched.
            self.handle = None

    def _write(self, data: bytes) -> None:
        if self.handle is None:
            return
        try:
            self.handle.write(data)
            self.digest.update(data)
        except OSError:
            self.discard()

    def add(self, item) -> None:
        if self.handle is not None:
            self._write(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))

    def finish(self, file_row: dict) -> None:
        self._write(pickle.dumps(dict(file_row), protocol=pickle.HIGHEST_PROTOCOL))
        if self.handle is None:
            return
        try:
            self.handle.write(_MARK + self.digest.digest())
            self.handle.flush()
            os.fsync(self.handle.fileno())  # on disk before the rename: a crash leaves no 0-byte entry
            self.handle.close()
            self.handle = None
            self.tmp.replace(self.entry)
        except OSError:
            self.discard()

    def discard(self) -> None:
        if self.handle is not None:
            try:
                self.handle.close()
            except OSError:
                pass
            self.handle = None
        self.tmp.unlink(missing_ok=True)
