"""selfeval: Beijing's project-expenditure performance self-evaluation forms -> tidy tables and analyses.

The parser's modules (COMPILED_MODULES) run compiled to C by mypyc when build/compiled/
holds a build of their sources as they are now, for this Python (`make compile`, see
selfeval/compiled.py); otherwise, or with SELFEVAL_PURE_PYTHON=1, they run as Python.
The check is here because it must happen before any of them is imported.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR.parent / "build" / "compiled"
# The parse of a form and its re-scoring: most of the ETL's time. They type-check under
# mypy (mypyc needs it) and take plain values and rows (pandas objects stay outside).
COMPILED_MODULES = ("cells", "form", "numbers", "read", "vocabulary", "values", "scoring", "checks")
PURE_PYTHON_VARIABLE = "SELFEVAL_PURE_PYTHON"
STAMP_FILE = "stamp.json"  # in BUILD_DIR: what the build was made from (source_stamp)


def source_stamp() -> dict:
    """What a build must have been made from: the sources' sha256 and this Python's ABI."""
    return {"python": sys.implementation.cache_tag,
            "modules": {name: hashlib.sha256((PACKAGE_DIR / f"{name}.py").read_bytes()).hexdigest()
                        for name in COMPILED_MODULES}}


def read_stamp(build_dir: Path = BUILD_DIR) -> dict | None:
    try:
        return json.loads((build_dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def built_from_current_sources(stamp: dict) -> bool:
    wanted = source_stamp()
    return {key: stamp.get(key) for key in wanted} == wanted


def compiled_status(build_dir: Path = BUILD_DIR) -> str:
    """"current" (built from these sources for this Python), "stale", "absent" or "disabled"."""
    if os.environ.get(PURE_PYTHON_VARIABLE):
        return "disabled"
    stamp = read_stamp(build_dir)
    if stamp is None:
        return "absent"
    return "current" if built_from_current_sources(stamp) else "stale"


def _use_compiled(package_path: list[str], build_dir: Path = BUILD_DIR) -> None:
    state = compiled_status(build_dir)
    if state == "stale":  # an edited parser runs as Python, never as a stale binary
        warnings.warn(f"the compiled parser in {build_dir} was built from other sources than "
                      f"selfeval/{{{','.join(COMPILED_MODULES)}}}.py: running them as Python (slower, "
                      "same tables) until `make compile` builds them again", stacklevel=2)
    if state == "current":
        package_path.insert(0, str(build_dir / "selfeval"))  # searched before the sources
        if str(build_dir) not in sys.path:
            sys.path.append(str(build_dir))  # mypyc's shared runtime library, a top-level module


_use_compiled(__path__)
