"""The reports opened in a real browser: Debian's headless Chromium driven by Playwright,
with every request that would leave the machine blocked and recorded.

Used for the briefings' PDFs, the screenshots in docs/ (``python -m selfeval.reports.runner
--screenshots docs/screenshots``) and tests/test_browser.py. Chromium comes from Debian
(``make chromium``); Playwright's own browser download is never used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@dataclass
class Visit:
    """What happened while a page loaded: requests outside the machine (blocked), failed
    requests, console errors and uncaught exceptions."""

    url: str
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.blocked or self.failed or self.console_errors)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (playwright Browser) started from the system's executable."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium found: run `make chromium` (Debian package chromium)")
    with sync_playwright() as p:
        # --no-sandbox: containers and CI run as root, where Chromium's sandbox refuses to start
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, path: Path, *, width: int = 1280, height: int = 900, lang: str = "zh-CN"):
    """Open *path* offline; returns (page, Visit). Only file:// and data: URLs load."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=lang)
    page = context.new_page()
    visit = Visit(url=Path(path).resolve().as_uri())

    def route(r):
        url = r.request.url
        if url.startswith(("file://", "data:", "blob:")):
            r.continue_()
        else:
            visit.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page.on("requestfailed", lambda req: visit.failed.append(f"{req.url}: {req.failure}"))
    page.on("console", lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: visit.console_errors.append(str(exc)))
    page.goto(visit.url, wait_until="load")
    # charts are lazy-loaded images: scroll through so every one is requested and decoded
    page.evaluate("""async () => {
        for (const img of document.images) { img.loading = 'eager'; }
        await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
    }""")
    return page, visit


def print_pdf(browser, html_path: Path, pdf_path: Path) -> Visit:
    """The page printed to an A4 PDF by Chromium (its @page and print styles apply)."""
    page, visit = open_page(browser, html_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True)
    os.chmod(pdf_path, 0o644)
    page.context.close()
    return visit


SHOTS = [
    # (file name, page under reports/, full page?)
    ("index.png", "index.html", True),
    ("report_01_zh.png", "html/01_budget_execution__all.html", False),
    ("report_01_en.png", "html/01_budget_execution__all-en.html", False),
    ("report_02_zh.png", "html/02_score_inflation__all.html", False),
    ("report_02_en.png", "html/02_score_inflation__all-en.html", False),
    ("report_03_zh.png", "html/03_indicator_phrasing__all.html", False),
    ("report_03_en.png", "html/03_indicator_phrasing__all-en.html", False),
    ("report_00_zh.png", "html/00_explore__all.html", False),
    ("report_00_en.png", "html/00_explore__all-en.html", False),
    ("department_report.png", "html/01_budget_execution__dept-fengtai-city-command.html", False),
    ("form_page.png", "forms/002_fd002be877c499a2-005.zh.html", False),
    ("briefing.png", None, True),  # a Chinese briefing with both charts
]


def screenshots(out: Path, target: Path) -> list[tuple[Path, Visit]]:
    """PNG screenshots of the index, reports, a form page and a briefing into *target*."""
    target.mkdir(parents=True, exist_ok=True)
    results = []
    briefings = sorted(
        (p for p in (out / "briefings").glob("*.zh.html") if p.read_text(encoding="utf-8").count("<figure>") >= 2),
        key=lambda p: p.name,
    )
    with chromium() as browser:
        for name, rel, full in SHOTS:
            path = (briefings[0] if briefings else None) if rel is None else out / rel
            if path is None or not path.exists():
                continue
            page, visit = open_page(browser, path, height=1100)
            page.wait_for_timeout(500)  # let the images that loading made eager be laid out and painted
            shot = target / name
            page.screenshot(path=str(shot), full_page=full)
            os.chmod(shot, 0o644)
            page.context.close()
            results.append((shot, visit))
    return results
