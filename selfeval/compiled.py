"""The parser's modules compiled to C with mypyc, used only while they match their sources.

    python -m selfeval.compiled [--force]     (run by `make setup`, `make test`, `make etl`)

The parser and the re-scoring (selfeval.COMPILED_MODULES) are plain, type-annotated Python.
mypyc compiles the same source files to C extensions, with which the ETL of 100,000 forms
needs 87-110 s of CPU instead of 135 s (issue 5: under a minute on two cores; README,
Benchmarks). They are built into build/compiled/,
outside the package, with a stamp holding the sha256 of every source they were built
from. On import, selfeval puts build/compiled/selfeval/ ahead of the package's own
folder only when the stamp matches the sources as they are now and the running
Python: an edited parser runs as Python (with a warning) until it is compiled again,
never as a stale binary. Without a C compiler, or with SELFEVAL_PURE_PYTHON=1, the
pure-Python modules run; the tables are the same (tests/test_compiled.py).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from selfeval import (BUILD_DIR, COMPILED_MODULES, PACKAGE_DIR, STAMP_FILE, built_from_current_sources, read_stamp,
                      source_stamp)


def in_use() -> bool:
    """Whether this process runs the compiled parser (for run.json and the benchmarks)."""
    import selfeval.form
    return not str(selfeval.form.__file__).endswith(".py")


def build(build_dir: Path = BUILD_DIR, force: bool = False) -> str:
    """Compile COMPILED_MODULES into build_dir unless already current. Returns what happened."""
    if not force and built_from_current_sources(read_stamp(build_dir) or {}):
        return f"compiled parser up to date ({build_dir})"
    # taken before the sources are copied: one edited during the build leaves the stamp stale
    stamp = {**source_stamp(), "mypy": _mypy_version()}
    with tempfile.TemporaryDirectory(prefix="selfeval-mypyc-") as tmp:
        # a copy of the package: mypyc writes its C files and extensions beside the sources,
        # and nothing compiled may land in selfeval/ itself (it would shadow the sources)
        package = Path(tmp) / "selfeval"
        package.mkdir()
        for source in PACKAGE_DIR.glob("*.py"):
            shutil.copy(source, package / source.name)
        command = [sys.executable, "-m", "mypyc", "--ignore-missing-imports",
                   *[f"selfeval/{name}.py" for name in COMPILED_MODULES]]
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"mypyc failed ({' '.join(command)}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        staging = Path(tempfile.mkdtemp(prefix=".compiled-", dir=_parent(build_dir)))
        (staging / "selfeval").mkdir()
        for extension in package.glob("*.so"):
            shutil.copy(extension, staging / "selfeval" / extension.name)
        for runtime in Path(tmp).glob("*__mypyc*.so"):
            shutil.copy(runtime, staging / runtime.name)
    (staging / STAMP_FILE).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    old = build_dir.with_name(f".{build_dir.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if build_dir.exists():
        build_dir.rename(old)
    staging.rename(build_dir)
    shutil.rmtree(old, ignore_errors=True)
    return f"compiled {', '.join(COMPILED_MODULES)} into {build_dir}"


def _parent(build_dir: Path) -> Path:
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    return build_dir.parent


def _mypy_version() -> str:
    try:
        from mypy.version import __version__
    except ImportError:
        return "unknown"
    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="compile even when up to date")
    args = parser.parse_args(argv)
    try:
        print(build(force=args.force))
    except (RuntimeError, OSError) as exc:
        print(f"warning: the parser was not compiled, it will run as Python (slower, same tables): {exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
