"""selfeval: Beijing's project-expenditure performance self-evaluation forms -> tidy tables and analyses.

The sub-packages, in the order data flows (README, "The folders"):

    vocab -> schema -> extract -> parse -> score -> store -> run      (the ETL: raw files -> tables)
                                                  store -> analysis -> reports   (tables -> findings, HTML)

The ETL's hot sub-packages (compiled.COMPILED_PACKAGES) may run compiled to C by mypyc: the
extensions are built beside their sources (`make compile`), and one whose source has
changed since is removed here, before anything imports it, so a stale binary never runs.
"""

from __future__ import annotations

__version__ = "0.4.0"

from selfeval import compiled as _compiled  # noqa: E402

_compiled.discard_stale()
