"""Tests for selfeval.analysis.charts: CJK text renders, files are complete and stable."""

import os
import warnings

import matplotlib

matplotlib.use("Agg")  # headless: tests must not need a display

import matplotlib.pyplot as plt
import pytest

from selfeval.analysis import charts

DEPARTMENTS = ["北京市朝阳区城市管理监督指挥中心", "丰台区城市管理指挥中心", "北京市朝阳区人民政府小关街道办事处"]


def _draw_chinese_chart(lang="zh"):
    fig, ax = charts.new_figure()
    # Negative values put "-20" etc. on the y axis: exercises the minus sign.
    ax.bar(DEPARTMENTS, [88.97, -12.5, 100.0])
    ax.set_ylim(-40, 110)
    ax.set_ylabel(charts.label("execution_rate", lang))
    charts.finish(
        fig,
        ax,
        title="各单位预算执行率（负值为调减）",
        source=charts.source_line(["朝阳区", "丰台区"], [2021, 2022, 2023], lang=lang),
        units="%",
        lang=lang,
    )
    return fig, ax


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_use_style_picks_cjk_font_and_ascii_minus():
    font = charts.use_style()
    assert "CJK" in font or any(h in font for h in ("Hei", "Song", "WenQuanYi"))
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert matplotlib.rcParams["font.sans-serif"][0] == font


def test_chinese_chart_draws_and_saves_without_missing_glyph_warnings(tmp_path):
    with warnings.catch_warnings():
        # Any "Glyph ... missing from font(s)" warning becomes a test failure.
        warnings.simplefilter("error")
        charts.use_style()
        fig, ax = _draw_chinese_chart()
        tick_texts = [t.get_text() for t in ax.get_yticklabels()]
        assert any(t.startswith("-") for t in tick_texts), tick_texts  # ASCII minus in use
        paths = charts.save_figure(fig, tmp_path / "figs" / "nested", "execution_rate_by_unit")

    assert paths.png == tmp_path / "figs" / "nested" / "execution_rate_by_unit.png"
    assert paths.svg == tmp_path / "figs" / "nested" / "execution_rate_by_unit.svg"
    assert paths.png.stat().st_size > 10_000
    assert paths.svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")

    PIL_Image = pytest.importorskip("PIL.Image")
    with PIL_Image.open(paths.png) as img:
        dpi_x, dpi_y = img.info["dpi"]
        width, height = img.size
    assert round(dpi_x) >= 200 and round(dpi_y) >= 200
    # 10 x 5.625 in at 200 dpi: a full-resolution 16:9 slide picture.
    assert (width, height) == (2000, 1125)

    # No temp files left behind by the atomic writes.
    assert sorted(os.listdir(paths.png.parent)) == ["execution_rate_by_unit.png", "execution_rate_by_unit.svg"]


def test_nothing_is_cut_off():
    charts.use_style()
    fig, ax = _draw_chinese_chart()
    fig.canvas.draw()  # runs constrained layout
    renderer = fig.canvas.get_renderer()
    # Everything drawn (titles, tick labels, source line) lies inside the
    # figure; get_tightbbox skips ticks outside the view limits.
    drawn = fig.get_tightbbox(renderer)  # inches
    width, height = fig.get_size_inches()
    tol = 0.01
    assert drawn.x0 >= -tol and drawn.y0 >= -tol, drawn
    assert drawn.x1 <= width + tol and drawn.y1 <= height + tol, drawn
    # The source line does not overlap the axes (x tick labels included).
    src_box = fig._selfeval_source.get_window_extent(renderer)
    axes_box = ax.get_tightbbox(renderer)
    assert src_box.y1 <= axes_box.y0 + 1


def test_long_title_and_source_are_wrapped_to_fit():
    charts.use_style()
    fig, ax = charts.new_figure()
    ax.plot([1, 2, 3], [1, -2, 3])
    long_title = "北京市朝阳区人民政府小关街道办事处" * 6
    # A unit label pushes the axes (and so the title start) to the right.
    charts.finish(fig, ax, long_title, charts.source_line(DEPARTMENTS * 3, range(2019, 2025)), units="万元")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for text in (fig._selfeval_title, fig._selfeval_source):
        assert "\n" in text.get_text()
        assert text.get_window_extent(renderer).x1 <= fig.bbox.x1 + 1


def test_english_chart_and_figure_names_are_stable(tmp_path):
    charts.use_style()
    fig, ax = _draw_chinese_chart(lang="en")
    assert ax.get_ylabel() == "Budget execution rate (%)"
    # Unit names are not translated; the rest of the source line is.
    assert fig._selfeval_source.get_text() == (
        "Source: 朝阳区, 丰台区 2021–2023 project expenditure performance self-evaluation forms"
    )
    first = charts.save_figure(fig, tmp_path, "Execution rate by unit (EN)")
    second = charts.save_figure(fig, tmp_path, "Execution rate by unit (EN)")
    assert first == second
    assert first.png.name == "execution_rate_by_unit_en.png"


def test_slugify():
    assert charts.slugify("execution_rate_by_unit") == "execution_rate_by_unit"
    assert charts.slugify("Score inflation: 2021/2022") == "score_inflation_2021_2022"
    assert charts.slugify("  ../../etc/passwd ") == "etc_passwd"
    assert charts.slugify("Café déjà vu") == "cafe_deja_vu"
    # No ASCII at all: a stable hashed name instead of an empty one.
    zh = charts.slugify("预算执行率")
    assert zh.startswith("figure_") and zh == charts.slugify("预算执行率")
    assert zh != charts.slugify("自评得分")


def test_labels_and_source_line():
    assert charts.label("execution_rate", "zh") == "预算执行率"
    assert charts.label("execution_rate", "en") == "Budget execution rate"
    with pytest.raises(KeyError, match="LABELS"):
        charts.label("no_such_label", "zh")
    with pytest.raises(ValueError):
        charts.label("execution_rate", "fr")
    assert charts.source_line("朝阳区", 2021) == "来源：朝阳区 2021年度 项目支出绩效自评表"
    assert (
        charts.source_line(["朝阳区", "丰台区"], [2023, 2021, 2022])
        == "来源：朝阳区、丰台区 2021–2023年度 项目支出绩效自评表"
    )
    assert charts.source_line("all", "all") == "来源：项目支出绩效自评表"
    assert charts.source_line(None, [2021, 2023], lang="en") == (
        "Source: 2021, 2023 project expenditure performance self-evaluation forms"
    )


def test_missing_cjk_font_gives_actionable_error(monkeypatch):
    monkeypatch.setattr(charts, "_installed_font_names", lambda: {"DejaVu Sans", "DejaVu Serif"})
    monkeypatch.setattr(charts, "_candidate_font_files", lambda: [])
    with pytest.raises(RuntimeError, match="make setup.*fonts-noto-cjk"):
        charts.use_style()


def test_save_figure_rejects_low_dpi(tmp_path):
    fig, _ = charts.new_figure()
    with pytest.raises(ValueError):
        charts.save_figure(fig, tmp_path, "x", dpi=72)


def test_dense_scatter_is_an_image_in_the_svg_and_the_rest_stays_vector(tmp_path):
    import numpy as np

    charts.use_style()
    rng = np.random.default_rng(0)
    fig, ax = charts.new_figure()
    dense = ax.scatter(rng.random(charts.RASTERIZE_ABOVE + 1), rng.random(charts.RASTERIZE_ABOVE + 1), s=5)
    ax.scatter(rng.random(50), rng.random(50), s=5)
    charts.finish(fig, ax, "散点", "来源：测试")
    assert charts.dense_artists(fig) == [dense]
    first = charts.save_figure(fig, tmp_path / "a", "dense")
    assert not dense.get_rasterized()  # only for the SVG; the figure is left as it was
    svg = first.svg.read_text(encoding="utf-8")
    assert svg.count("<image") == 1 and "<path" in svg  # the dense points; axes and text as paths
    assert first.svg.stat().st_size < 1_000_000
    second = charts.save_figure(fig, tmp_path / "b", "dense")
    assert first.svg.read_bytes() == second.svg.read_bytes()  # still byte-identical for identical charts
    plt.close(fig)


def test_text_from_forms_is_never_parsed_as_math(tmp_path):
    """A 主管部门 such as 丰台区$\\frac{1}$中心 (issue 15) is drawn as printed, not parsed as math markup."""
    import matplotlib.pyplot as plt

    charts.use_style()
    fig, ax = charts.new_figure()
    ax.bar(["丰台区$\\frac{1}$中心"], [1.0])
    charts.finish(fig, ax, "丰台区$\\frac{1}$中心的预算", "来源：测试")
    saved = charts.save_figure(fig, tmp_path, "math")
    plt.close(fig)
    assert saved.png.stat().st_size > 0 and "$\\frac{1}$" in saved.svg.read_text(encoding="utf-8")
