"""selfeval's ETL: every 项目支出绩效自评表 in data/raw/ -> tidy tables in data/processed/.

Command line:  python etl.py [--raw DIR] [--out DIR] [--jobs N] [--strict] [--no-cache]
               (the same as `selfeval etl`)
In a notebook: import etl; tables = etl.load()   # rebuilds first when a raw file changed

A thin entry over the installed package (selfeval.run.command), kept at the top because
that is where users look for it.
"""

from __future__ import annotations

import sys

from selfeval.paths import PROCESSED_DIR, RAW_DIR, ROOT  # noqa: F401  (etl.RAW_DIR, etl.PROCESSED_DIR, etl.ROOT)
from selfeval.run.command import build, load, main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main(prog="python etl.py", hard_exit=True))
