"""The ETL's hot sub-packages compiled to C with mypyc, beside their sources, used only while they match them.

    selfeval compile [--force]      (run by `make setup`, `make test`, `make etl`, `make report`)

The modules of COMPILED_PACKAGES (every module in those folders but __init__.py: found by
folder, never listed by hand) are plain, type-annotated Python. mypyc compiles the same files
to C extensions, which Python's import system prefers to the .py beside them; with them the
ETL of 100,000 forms needs 87-110 s of CPU instead of 135 s (README, Benchmarks).

The build writes STAMP_FILE with the sha256 of every source it was made from and the
Python ABI. `import selfeval` calls discard_stale() before any sub-package is imported:
when any source changed since, or the Python differs, the extensions are removed (with a
warning) and the modules run as Python until `make compile` builds them again. So an edited
module never runs as a stale binary, and no import path is rewritten.
Without a C compiler the build fails with a warning and the package runs as Python: the
tables are the same (tests/test_compiled.py compares both).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Where the ETL spends its time: reading text, the parse of a form, its re-scoring, and the
# vocabulary lookups they make per cell. They take plain values and rows (pandas stays outside).
COMPILED_PACKAGES = ("vocab", "extract", "parse", "score")
# ... but not the document readers: their time is spent inside python-docx, lxml, pdfplumber.
NOT_COMPILED = ("extract/formats",)
STAMP_FILE = PACKAGE_DIR / ".compiled.json"  # what the build was made from (source_stamp); not committed
GROUP = "selfeval._native"  # mypyc's shared runtime library, inside the package
EXTENSION_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def compiled_sources(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    return sorted(
        path
        for package in COMPILED_PACKAGES
        for path in (package_dir / package).rglob("*.py")
        if path.name != "__init__.py"
        and not any(path.relative_to(package_dir).as_posix().startswith(f"{folder}/") for folder in NOT_COMPILED)
    )


def extensions(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The compiled files inside the package (any Python's: a build for another one is stale too)."""
    return sorted(path for path in package_dir.rglob("*.so") if "__pycache__" not in path.parts)


def source_stamp(package_dir: Path = PACKAGE_DIR) -> dict:
    """What a build must have been made from: the sources' sha256 and this Python's ABI."""
    return {
        "python": sys.implementation.cache_tag,
        "modules": {
            path.relative_to(package_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in compiled_sources(package_dir)
        },
    }


def read_stamp(package_dir: Path = PACKAGE_DIR) -> dict | None:
    try:
        return json.loads((package_dir / STAMP_FILE.name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def status(package_dir: Path = PACKAGE_DIR) -> str:
    """ "current" (built from these sources for this Python), "stale" or "absent"."""
    if not extensions(package_dir):
        return "absent"
    stamp = read_stamp(package_dir) or {}
    wanted = source_stamp(package_dir)
    return "current" if {key: stamp.get(key) for key in wanted} == wanted else "stale"


def discard_stale(package_dir: Path = PACKAGE_DIR) -> bool:
    """Remove a build made from other sources (or for another Python) before it can be imported."""
    if status(package_dir) != "stale":
        return False
    try:
        for path in extensions(package_dir):
            path.unlink()
        (package_dir / STAMP_FILE.name).unlink(missing_ok=True)
    except OSError as exc:
        raise ImportError(
            f"selfeval: the compiled modules in {package_dir} were built from other sources and "
            f"cannot be removed ({exc}); delete the *.so files there or run `make compile`"
        ) from None
    warnings.warn(
        f"selfeval: removed the compiled modules built from other sources than selfeval/"
        f"{{{','.join(COMPILED_PACKAGES)}}}/; running them as Python (slower, same tables) until "
        "`make compile` builds them again",
        stacklevel=3,
    )
    return True


def in_use() -> bool:
    """Whether this process runs the compiled modules (for run.json and the benchmarks): a current
    build is what Python imports, since discard_stale() ran before any of them was imported."""
    return status() == "current"


_SETUP = """
from setuptools import setup
from mypyc.build import mypycify
setup(name="selfeval-native", script_args=["build_ext", "--inplace"],
      ext_modules=mypycify(["--ignore-missing-imports", *{sources!r}], group_name={group!r}))
"""


def build(package_dir: Path = PACKAGE_DIR, force: bool = False) -> str:
    """Compile COMPILED_PACKAGES beside their sources unless already current. Returns what happened."""
    if not force and status(package_dir) == "current":
        return f"compiled modules up to date ({', '.join(COMPILED_PACKAGES)})"
    # taken before the sources are copied: one edited during the build leaves the stamp stale
    stamp = {**source_stamp(package_dir), "mypy": _mypy_version()}
    with tempfile.TemporaryDirectory(prefix="selfeval-mypyc-") as tmp:
        # mypyc writes C files and build products beside the sources: it works on a copy
        copy = Path(tmp) / "selfeval"
        shutil.copytree(package_dir, copy, ignore=shutil.ignore_patterns("*.so", "__pycache__", ".compiled.json"))
        sources = [path.relative_to(tmp).as_posix() for path in compiled_sources(copy)]
        (Path(tmp) / "setup.py").write_text(_SETUP.format(sources=sources, group=GROUP), encoding="utf-8")
        done = subprocess.run([sys.executable, "setup.py"], cwd=tmp, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"mypyc failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        built = extensions(copy)
        if not built:
            raise RuntimeError("mypyc built no extension")
        # the old build and its stamp go first: an interrupted copy leaves extensions without a
        # stamp, which discard_stale() removes at the next import
        for path in extensions(package_dir):
            path.unlink()
        (package_dir / STAMP_FILE.name).unlink(missing_ok=True)
        for extension in built:
            target = package_dir / extension.relative_to(copy)
            partial = target.with_name(target.name + ".partial")
            shutil.copy(extension, partial)
            partial.replace(target)
    (package_dir / STAMP_FILE.name).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    return f"compiled {len(stamp['modules'])} modules of {', '.join(COMPILED_PACKAGES)} (mypyc)"


def _mypy_version() -> str:
    try:
        from mypy.version import __version__
    except ImportError:
        return "unknown"
    return __version__


def main(force: bool = False) -> int:
    try:
        print(build(force=force))
    except (RuntimeError, OSError) as exc:
        print(f"warning: not compiled, the package runs as Python (slower, same tables): {exc}", file=sys.stderr)
        return 1
    return 0
