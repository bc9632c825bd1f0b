"""One ETL run at a time per output folder, and write failures as one clear error."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class EtlError(Exception):
    """A run that could not write its outputs (locked, read-only or full output folder)."""


def acquire(out_dir: Path) -> FileLock:
    """The output folder's lock, taken without waiting: a second run exits at once with a message."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(out_dir / ".etl.lock"), timeout=0)
        lock.acquire()
    except Timeout:
        raise EtlError(
            f"another ETL run is writing to {out_dir} (lock {out_dir / '.etl.lock'}); "
            "wait for it to finish and run again"
        ) from None
    except OSError as exc:
        raise EtlError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None
    return lock


@contextmanager
def output_errors(out_dir: Path):
    """An OSError while writing the outputs (read-only or full folder) as an EtlError."""
    try:
        yield
    except OSError as exc:
        raise EtlError(
            f"cannot write outputs to {out_dir}: {exc.strerror or exc}; the previous outputs were left as they were"
        ) from None
