"""The `selfeval` command: a thin layer over the package, one sub-command per Makefile door.

    selfeval etl        data/raw -> data/processed (the tables)
    selfeval report     every notebook x parameter set -> reports/
    selfeval findings   what the data shows, from the named measures
    selfeval compile    compile the ETL's hot sub-packages with mypyc
    selfeval docs       regenerate docs/data_dictionary.md from the schema
    selfeval inspect    how a file was read: layout per form, labels matched and unknown, repairs

`selfeval COMMAND --help` shows each command's options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def _etl(argv: list[str]) -> int:
    from selfeval.run import command

    return command.main(argv, prog="selfeval etl", hard_exit=True)


def _report(argv: list[str]) -> int:
    from selfeval.reports import runner

    return runner.main(argv, prog="selfeval report")


def _findings(argv: list[str]) -> int:
    from selfeval.analysis import findings

    return findings.main(argv, prog="selfeval findings")


def _compile(argv: list[str]) -> int:
    from selfeval import compiled

    parser = argparse.ArgumentParser(prog="selfeval compile", description=compiled.__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="compile even when up to date")
    return compiled.main(force=parser.parse_args(argv).force)


def _docs(argv: list[str]) -> int:
    from selfeval.paths import ROOT
    from selfeval.schema import fields

    parser = argparse.ArgumentParser(
        prog="selfeval docs",
        description="regenerate docs/data_dictionary.md from the field dictionary (selfeval/schema/fields.py)",
    )
    parser.parse_args(argv)
    (ROOT / "docs" / "data_dictionary.md").write_text(fields.data_dictionary_markdown(), encoding="utf-8")
    print("wrote docs/data_dictionary.md")
    return 0


def _inspect(argv: list[str]) -> int:
    from selfeval.run import inspect

    return inspect.main(argv, prog="selfeval inspect")


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "etl": (_etl, "data/raw -> data/processed: parse, re-score and validate every form"),
    "report": (_report, "run every notebook x parameter set through papermill -> reports/"),
    "findings": (_findings, "print what the data shows, from the named measures"),
    "compile": (_compile, "compile the ETL's hot sub-packages with mypyc (same tables, faster)"),
    "docs": (_docs, "regenerate docs/data_dictionary.md from the schema"),
    "inspect": (_inspect, "how a file was read: layout per form, labels matched and unknown, repairs"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="selfeval",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\n`selfeval COMMAND --help` for a command's options.",
    )
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    args, rest = parser.parse_known_args(argv[:1])
    return COMMANDS[args.command][0](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
