"""One chart style for every notebook and briefing slide.

Typical notebook use::

    from selfeval.analysis import charts

    charts.use_style()
    fig, ax = charts.new_figure()
    ax.bar(names, rates)
    charts.finish(
        fig, ax,
        title=charts.label("execution_rate", lang),
        source=charts.source_line(["朝阳区", "丰台区"], [2021, 2022], lang=lang),
        units="%", lang=lang,
    )
    charts.save_figure(fig, figures_dir, "execution_rate_by_unit")

Chart text (titles, axis labels) comes from :func:`label`, so the same
notebook can produce Chinese or English charts from its ``lang`` parameter.
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
import re
import tempfile
import textwrap
import unicodedata
from pathlib import Path
from typing import NamedTuple

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import font_manager
from matplotlib.collections import Collection
from matplotlib.lines import Line2D

from selfeval import vocab

__all__ = [
    "FIGURE_DPI",
    "RASTERIZE_ABOVE",
    "dense_artists",
    "LABELS",
    "SLIDE_SIZE",
    "SavedFigure",
    "find_cjk_font",
    "finish",
    "label",
    "new_figure",
    "save_figure",
    "slugify",
    "source_line",
    "use_style",
]

# 16:9, the shape of a presentation slide; 10 in wide keeps default font
# sizes readable when the picture is scaled to fill a slide.
SLIDE_SIZE = (10.0, 5.625)
FIGURE_SIZES = {
    "slide": SLIDE_SIZE,
    "half": (5.0, 5.625),  # one of two charts side by side on a slide
    "wide": (12.0, 4.0),  # a long category axis (many departments)
}
# 200 dpi gives 2000 px across a slide-sized figure: sharp on a projector.
FIGURE_DPI = 200
# In the SVG, an artist with more points than this (a scatter of 100,000 forms) is
# embedded as a FIGURE_DPI image; text, axes and sparser artists stay vector. Without
# it such an SVG is ~15 MB of markers and takes seconds to write and to open.
RASTERIZE_ABOVE = 5_000

# Preferred fonts in order. fonts-noto-cjk (installed by `make setup`) ships
# all of them in one .ttc; SC first because the forms are Simplified Chinese.
PREFERRED_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP")
# Any other installed font whose name says it covers Chinese will do.
_CJK_NAME_HINTS = re.compile(r"CJK|Hei|Song|WenQuanYi|Source Han|Noto Sans SC", re.IGNORECASE)
# Where fonts-noto-cjk puts its files; probed when matplotlib's font cache
# does not list a CJK font (cache built before the package was installed, or
# a matplotlib < 3.11 that skips .ttc files when scanning system fonts).
NOTO_CJK_TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
_FONT_FILE_HINTS = ("*CJK*Regular*", "*CJK*", "wqy*", "*Hei*", "*Song*")

# ---------------------------------------------------------------------------
# Chart text in both languages. Keep it small; notebooks add keys as needed.
# ---------------------------------------------------------------------------
# (kept in selfeval/vocab/texts.yaml, the one catalogue of texts, under chart_labels)
LABELS: dict[str, dict[str, str]] = vocab.load("texts")["chart_labels"]
LANGS = ("zh", "en")


def label(key: str, lang: str = "zh") -> str:
    """Chart text for *key* in *lang* ("zh" or "en")."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    try:
        return LABELS[key][lang]
    except KeyError:
        raise KeyError(
            f"no chart label {key!r}; add it to selfeval.analysis.charts.LABELS (texts.yaml, chart_labels) (known: {', '.join(sorted(LABELS))})"
        ) from None


# ---------------------------------------------------------------------------
# Style
# ---------------------------------------------------------------------------
def _installed_font_names() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _pick_cjk_font(names: set[str]) -> str | None:
    for preferred in PREFERRED_CJK_FONTS:
        if preferred in names:
            return preferred
    # Deterministic choice among the rest; avoid monospace faces for labels.
    others = sorted(n for n in names if _CJK_NAME_HINTS.search(n))
    proportional = [n for n in others if "mono" not in n.lower()]
    return (proportional or others or [None])[0]  # type: ignore[list-item]


def _candidate_font_files() -> list[str]:
    files = [NOTO_CJK_TTC]
    for folder in _FONT_DIRS:
        folder = os.path.expanduser(folder)
        if not os.path.isdir(folder):
            continue
        for hint in _FONT_FILE_HINTS:
            for ext in ("ttc", "otf", "ttf"):
                files.extend(sorted(glob.glob(os.path.join(folder, "**", f"{hint}.{ext}"), recursive=True)))
    return [f for f in dict.fromkeys(files) if os.path.isfile(f)]  # first occurrence of each, in order


def find_cjk_font() -> str:
    """Name of an installed font that has Chinese glyphs.

    Looks in matplotlib's font list first. If nothing is there, registers
    font files from the usual system folders with ``fontManager.addfont``:
    matplotlib >= 3.11 then sees every face of a .ttc ("Noto Sans CJK SC",
    ...), older versions only the first face ("Noto Sans CJK JP"), which is
    why both names are accepted.
    """
    name = _pick_cjk_font(_installed_font_names())
    if name:
        return name
    for path in _candidate_font_files():
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue  # unreadable or unsupported file: try the next one
        name = _pick_cjk_font(_installed_font_names())
        if name:
            return name
    raise RuntimeError(
        "No CJK font found for Chinese chart text (looked for "
        f"{', '.join(PREFERRED_CJK_FONTS)} or any CJK/Hei/Song/WenQuanYi font). "
        "Fix: run `make setup` to install fonts-noto-cjk "
        "(or `sudo apt-get install fonts-noto-cjk`), then restart the kernel."
    )


def use_style() -> str:
    """Apply the project chart style to matplotlib; returns the CJK font used.

    Safe to call more than once (every notebook calls it in its first cell).
    """
    cjk = find_cjk_font()
    # seaborn's set_theme resets rcParams, so it must run before the font
    # settings below, which would otherwise be overwritten.
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            # Text from forms ("丰台区$\\frac{1}$中心") is never parsed as math markup (issue 15).
            "text.parse_math": False,
            # The CJK font first; DejaVu Sans (bundled with matplotlib) as
            # per-glyph fallback for anything the CJK font lacks.
            "font.family": "sans-serif",
            "font.sans-serif": [cjk, "DejaVu Sans"],
            # CJK fonts often lack U+2212 MINUS SIGN; use the ASCII hyphen.
            "axes.unicode_minus": False,
            "figure.figsize": SLIDE_SIZE,
            "figure.dpi": 100,  # on-screen size in notebooks
            "savefig.dpi": FIGURE_DPI,
            "axes.titlesize": 15,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # Text as paths: the SVG looks the same on machines without the font.
            "svg.fonttype": "path",
            # Fixed salt -> stable element ids -> byte-identical SVGs for
            # identical charts, so regenerated figures do not churn in git.
            "svg.hashsalt": "selfeval",
        }
    )
    return cjk


def new_figure(kind: str = "slide", bars: int | None = None, **subplot_kw):
    """A new (fig, ax) sized for a slide (16:9, 10 x 5.625 in) or a variant.

    *kind* is "slide" (default), "half" or "wide". The figure uses
    constrained layout so titles and labels are never clipped.
    """
    try:
        size = FIGURE_SIZES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(FIGURE_SIZES)}, got {kind!r}") from None
    if bars:  # a horizontal bar chart: tall enough for every bar's label
        size = (size[0], max(size[1], 1.3 + 0.45 * bars))
    fig, ax = plt.subplots(figsize=size, layout="constrained", subplot_kw=subplot_kw or None)
    return fig, ax


# ---------------------------------------------------------------------------
# Titles, units, source line
# ---------------------------------------------------------------------------
def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _format_years(years) -> str:
    # "all" is the notebooks' default year parameter: no year in the line.
    ys = sorted({int(y) for y in _as_list(years) if str(y) != "all"})
    if not ys:
        return ""
    if len(ys) == 1:
        return str(ys[0])
    if ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}–{ys[-1]}"
    return ", ".join(str(y) for y in ys)


def source_line(units=None, years=None, lang: str = "zh") -> str:
    """The standard source line, e.g. "来源：朝阳区 2021–2023年度 项目支出绩效自评表".

    *units* are the reporting units (districts or departments), a string or
    a list; *years* an int or a list of ints (consecutive years collapse to
    a range). The notebook parameter value "all" is left out, so
    ``source_line(district, year, lang)`` works for every parameter set.
    """
    names = [str(u) for u in _as_list(units) if str(u) and str(u) != "all"]
    year_text = _format_years(years)
    if lang == "zh":
        parts = ["、".join(names), f"{year_text}年度" if year_text else "", label("source_forms", "zh")]
        return label("source_prefix", "zh") + " ".join(p for p in parts if p)
    parts = [", ".join(names), year_text, label("source_forms", "en")]
    return label("source_prefix", "en") + " ".join(p for p in parts if p)


def _fit_text(text_artist, max_width_px: float, renderer) -> None:
    """Re-wrap a single-line text artist so it fits *max_width_px*."""
    width = text_artist.get_window_extent(renderer).width
    if width <= max_width_px:
        return
    content = text_artist.get_text()
    # First guess assumes evenly wide characters; then shrink until it fits
    # (CJK characters are about twice as wide as Latin ones).
    chars = max(8, math.floor(len(content) * max_width_px / width))
    while True:
        # textwrap breaks at spaces and, for CJK text without spaces, anywhere.
        text_artist.set_text(textwrap.fill(content, width=chars))
        if chars <= 8 or text_artist.get_window_extent(renderer).width <= max_width_px:
            return
        chars -= max(1, chars // 10)


def finish(fig, ax, title: str, source: str, units: str | None = None, lang: str = "zh", axis: str = "y"):
    """Title, unit label and source line; lays out so nothing is cut off.

    *title*: chart title (top left). *source*: the source line, usually from
    :func:`source_line`; a string used as is. *units*: the unit of the value
    axis, e.g. "%" or label("wan_yuan", lang); appended to that axis label
    ("预算执行率（%）" / "Budget execution rate (%)"), or used as the label
    when the axis has none. *axis*: the value axis, "y" (default) or "x" for
    horizontal bars. Returns *fig*.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")

    title_artist = ax.set_title(title, loc="left")
    if units:
        get_label, set_label = (ax.get_ylabel, ax.set_ylabel) if axis == "y" else (ax.get_xlabel, ax.set_xlabel)
        current = get_label()
        if not current:
            set_label(units)
        elif lang == "zh":
            set_label(f"{current}（{units}）")
        else:
            set_label(f"{current} ({units})")

    src = fig.text(0.01, 0.01, source, ha="left", va="bottom", fontsize=8, color="0.35")
    # Keep handles to the two texts this function owns (used by the tests).
    fig._selfeval_title, fig._selfeval_source = title_artist, src

    renderer = fig.canvas.get_renderer()
    # The title starts at the axes' left edge, which is only known after a
    # layout pass (the y label and tick labels push it right).
    fig.draw_without_rendering()
    title_x0 = title_artist.get_window_extent(renderer).x0
    _fit_text(title_artist, 0.98 * fig.bbox.width - title_x0, renderer)
    _fit_text(src, 0.98 * fig.bbox.width, renderer)

    # Constrained layout ignores free-floating fig.text, so reserve a strip
    # at the bottom for the source line: its measured height plus a margin.
    src_height = src.get_window_extent(renderer).height / fig.bbox.height
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in engine.get():
        engine.set(rect=(0, src_height + 0.02, 1, 1 - (src_height + 0.02)))
    else:
        # Figures not made by new_figure(): fall back to tight_layout.
        fig.tight_layout(rect=(0, src_height + 0.02, 1, 1))
    return fig


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------
class SavedFigure(NamedTuple):
    png: Path
    svg: Path


def slugify(name: str) -> str:
    """Stable ASCII file name stem for *name*.

    "Execution rate by unit" -> "execution_rate_by_unit". Accents are
    stripped; a name with no ASCII letters/digits at all (e.g. all Chinese)
    gets "figure_" plus a short hash of the name, which is still stable.
    """
    ascii_text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_-]+", "_", ascii_text.lower())
    slug = re.sub(r"_{2,}", "_", slug).strip("_-.")
    if not slug:
        slug = "figure_" + hashlib.sha1(str(name).encode("utf-8")).hexdigest()[:8]
    return slug[:100]


def _atomic_savefig(fig, path: Path, fmt: str, **kwargs) -> None:
    # Temp file in the same folder: os.replace is only atomic within one
    # file system, and a crash leaves a dot-file rather than a broken chart.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, **kwargs)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; charts are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_figure(fig, figures_dir, name: str, dpi: int = FIGURE_DPI) -> SavedFigure:
    """Write ``<slug>.png`` (>= 200 dpi) and ``<slug>.svg`` into *figures_dir*.

    *figures_dir* is created if missing; each file is written atomically.
    Returns the two paths (a named tuple: ``.png``, ``.svg``).
    """
    if dpi < FIGURE_DPI:
        raise ValueError(f"dpi must be at least {FIGURE_DPI} for slides, got {dpi}")
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    slug = slugify(name)
    png, svg = folder / f"{slug}.png", folder / f"{slug}.svg"
    _atomic_savefig(fig, png, "png", dpi=dpi)
    dense = dense_artists(fig)
    for artist in dense:
        artist.set_rasterized(True)
    try:
        # No date in the SVG metadata, so identical charts give identical files.
        _atomic_savefig(fig, svg, "svg", metadata={"Date": None}, dpi=dpi)
    finally:
        for artist in dense:
            artist.set_rasterized(False)
    return SavedFigure(png=png, svg=svg)


def _points(artist) -> int:
    if isinstance(artist, Collection):
        return max(len(artist.get_offsets()), len(artist.get_paths()))  # type: ignore[arg-type]
    if isinstance(artist, Line2D):
        return len(list(artist.get_xydata()))  # type: ignore[arg-type]
    return 0


def dense_artists(fig, limit: int = RASTERIZE_ABOVE) -> list:
    """The figure's not yet rasterized collections and lines with more than *limit* points,
    which save_figure() embeds in the SVG as an image."""
    return [
        artist
        for ax in fig.axes
        for artist in (*ax.collections, *ax.lines)
        if not artist.get_rasterized() and _points(artist) > limit
    ]


# ---------------------------------------------------------------------------
# The charts the reports draw: one palette, value labels, names on the outliers
# ---------------------------------------------------------------------------
# Okabe-Ito (colour-blind safe), the palette of every chart: a main colour, one for what
# the chart warns about, one for the good side, and grey for reference lines.
PALETTE = {
    "main": "#0072B2",
    "warn": "#D55E00",
    "good": "#009E73",
    "other": "#E69F00",
    "muted": "#999999",
    "ref": "#444444",
}
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999"]
NAME_WIDTH = 22  # characters per line of a project name on an axis or a label


def wrap(name, width: int = NAME_WIDTH) -> str:
    """A long (Chinese) name on several lines, nothing cut off."""
    # not at hyphens: "2024年-项目名" would leave "2024年-" alone on a line
    return textwrap.fill(str(name), width=width, break_on_hyphens=False)


def hbar(ax, names, values, *, fmt, warn=None, ref: float | None = None, ref_label: str | None = None):
    """Horizontal bars, first name on top, each with its value printed at its end.
    *warn*: booleans, bars drawn in the warning colour; *ref*: a labelled reference line
    (its label sits above the plot, off the data)."""
    names, values = [wrap(n) for n in names], [float(v) for v in values]
    warn = list(warn) if warn is not None else [False] * len(values)
    colors = [PALETTE["warn"] if w else PALETTE["main"] for w in warn]
    bars = ax.barh(range(len(values)), values, color=colors)
    ax.set_yticks(range(len(values)), names)
    ax.invert_yaxis()
    ax.bar_label(bars, labels=[fmt(v) for v in values], padding=3, fontsize=9)
    ax.grid(axis="y", visible=False)
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - (0.14 * span if lo < 0 else 0), hi + 0.14 * span)
    if ref is not None:
        ax.axvline(ref, color=PALETTE["ref"], lw=1, ls="--")
        if ref_label:
            ax.annotate(
                ref_label,
                xy=(ref, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                color=PALETTE["ref"],
            )
    return bars


def grouped_bars(ax, categories, series: dict, *, fmt):
    """Bars side by side (never overlaid): one group per category, one bar per series,
    each bar labelled with its value; the legend above the plot."""
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        xs = [x - 0.4 + width * (i + 0.5) for x in range(len(categories))]
        bars = ax.bar(xs, list(values), width=width, color=SERIES[i % len(SERIES)], label=wrap(name, 30))
        ax.bar_label(bars, labels=[fmt(v) if v else "" for v in values], padding=2, fontsize=9)
    ax.set_xticks(range(len(categories)), list(categories))
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.15)
    if n > 1:  # below the plot: off the data and off the title
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=min(n, 3), fontsize=9)


def stacked_hbar(ax, frame, *, colors=None, fmt=lambda v: f"{v:.0f}%", min_label: float = 6.0):
    """Rows of *frame* as 100%-stacked horizontal bars (columns: the parts), each part
    wide enough labelled with its value; the legend below the plot."""
    left = [0.0] * len(frame)
    for i, column in enumerate(frame.columns):
        values = [float(v) for v in frame[column]]
        color = (colors or {}).get(column, SERIES[i % len(SERIES)])
        bars = ax.barh(range(len(frame)), values, left=left, color=color, label=str(column))
        ax.bar_label(
            bars,
            labels=[fmt(v) if v >= min_label else "" for v in values],
            label_type="center",
            fontsize=9,
            color="white",
        )
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(frame)), [wrap(n) for n in frame.index])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncols=min(len(frame.columns), 4), fontsize=9)


def bubbles(
    ax, x, y, names, *, label_top: int = 3, score=None, diagonal: str | None = None, size_note: str | None = None
):
    """A scatter where forms at the same point are one circle sized by their count (the
    count printed inside); the *label_top* forms with the highest *score* are labelled
    with their project name. *diagonal*: label of a y = x line, drawn when given."""
    import pandas as pd

    frame = pd.DataFrame({"x": [float(v) for v in x], "y": [float(v) for v in y], "name": list(names)})
    frame["score"] = [float(v) for v in score] if score is not None else 0.0
    frame = frame.dropna(subset=["x", "y"])
    groups = frame.groupby(["x", "y"]).size().rename("n").reset_index()
    # area grows with the square root of the count: 53 forms on one point stay a circle, not a blot
    ax.scatter(
        groups["x"],
        groups["y"],
        s=50 * groups["n"] ** 0.5 + 10,
        color=PALETTE["main"],
        alpha=0.6,
        edgecolor="white",
        linewidth=0.8,
        zorder=3,
    )
    for row in groups[groups["n"] > 1].itertuples():
        ax.annotate(
            f"{row.n}", (row.x, row.y), ha="center", va="center", fontsize=8, color="white", fontweight="bold", zorder=4
        )
    if diagonal:
        lo = min(frame["x"].min(), frame["y"].min())
        hi = max(frame["x"].max(), frame["y"].max())
        ax.plot([lo, hi], [lo, hi], color=PALETTE["ref"], lw=1, ls="--", zorder=2)
        # labelled near its low end, away from the crowd of forms at the top right
        at = lo + 0.12 * (hi - lo)
        ax.annotate(
            diagonal,
            xy=(at, at),
            xytext=(8, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=9,
            color=PALETTE["ref"],
        )
    top = frame.sort_values("score", ascending=False).head(label_top) if label_top else frame.iloc[:0]
    for i, row in enumerate(top.itertuples()):
        ax.annotate(
            wrap(row.name, 14),
            (row.x, row.y),
            xytext=(12, -14 - 16 * (i % 2)),
            textcoords="offset points",
            fontsize=8,
            color=PALETTE["warn"],
            arrowprops={"arrowstyle": "-", "color": PALETTE["muted"], "lw": 0.6},
            zorder=5,
        )
    if size_note:
        ax.annotate(
            size_note,
            xy=(1.0, 1.0),
            xycoords="axes fraction",
            xytext=(0, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color=PALETTE["muted"],
        )
    ax.margins(0.08)
