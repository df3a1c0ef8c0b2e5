"""The report's charts as SVG (matplotlib, Agg): market size and growth by market, competitor share and price.

A chart is drawn only when its data is there; text stays text in the SVG (`svg.fonttype: none`) in
the report's font, and the output is byte-stable for the same data (fixed hash salt, no date).
"""

from __future__ import annotations

import html
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.figures import format_measure
from actors.report.view import MarketRow

__all__ = ["Chart", "build_charts"]

_LOCK = threading.Lock()  # pyplot's state is global: one chart at a time per process
_INK, _ACCENT, _SECOND, _MUTED = "#1d2733", "#12355b", "#4f8fc0", "#6b7684"
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none", "svg.hashsalt": "mka-report", "font.family": "DejaVu Sans", "font.size": 8,
    "axes.edgecolor": "#c5ccd6", "axes.labelcolor": _INK, "xtick.color": _INK, "ytick.color": _INK,
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 9,
}


@dataclass(frozen=True)
class Chart:
    """One chart: a file name for exports, its title (also its alt text), the SVG markup and, when asked, a PNG."""

    name: str
    title: str
    svg: str
    png: bytes | None = None
    size_px: tuple[int, int] = (0, 0)
    """The PNG's width and height in pixels."""


PNG_DPI = 200  # a chart fills a slide-wide frame in Figma: sharp at 2x on a 640 px wide frame


def _chart(figure: Any, name: str, title: str, png: bool) -> Chart:
    """The figure as a titled chart (SVG, and PNG when asked); closes the figure."""
    image, size = None, (0, 0)
    if png:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
        image = buffer.getvalue()
        width, height = figure.get_size_inches()
        size = (round(width * PNG_DPI), round(height * PNG_DPI))
    return Chart(name, title, _titled(_svg(figure), title), image, size)


def _svg(figure: object) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline in HTML: no XML prolog or doctype
    text = re.sub(r"(?s)<metadata>.*?</metadata>\s*", "", text)  # RDF whose words would read as page text
    # Scale with the page: drop the fixed size, keep the viewBox.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart" role="img"', text, count=1)


def _titled(svg: str, title: str) -> str:
    """The chart's title as its SVG `<title>` (its alt text); the page shows it as the caption."""
    head = svg.index(">") + 1
    return f"{svg[:head]}<title>{html.escape(title)}</title>{svg[head:]}"


_CJK_FONTS = ["Noto Sans CJK JP"]  # fonts-noto-cjk; one family covers ja, zh and ko glyphs for measuring


def _english(message: str) -> str:
    return message


def _market_chart(rows: list[MarketRow], _: Callable[[str], str], locale: str, png: bool) -> Chart | None:
    import matplotlib.pyplot as plt

    sized = [r for r in rows if r.size is not None]
    if not sized:
        return None
    title = _("Market size and growth by market")
    labels = [r.market for r in sized]
    values = [r.size.value for r in sized if r.size]
    unit_key = sized[0].size.key if sized[0].size else None
    figure, axis = plt.subplots(figsize=(6.4, 2.0))
    bars = axis.bar(labels, values, color=_ACCENT, width=0.55)
    for bar, row in zip(bars, sized):
        growth = "\n" + _("+%(growth)s a year") % {"growth": format_measure(row.growth.value, row.growth.key, locale)} \
            if row.growth else ""
        axis.annotate(f"{format_measure(row.size.value if row.size else None, unit_key, locale)}{growth}",
                      (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 3),
                      textcoords="offset points", ha="center", va="bottom", fontsize=7, color=_INK)
    axis.set_ylim(0, max(values) * 1.45)
    axis.set_yticks([])
    axis.spines["left"].set_visible(False)
    figure.tight_layout()
    return _chart(figure, "chart-market-size", title, png)


def _competitor_chart(rows: list[MarketRow], _: Callable[[str], str], locale: str, png: bool) -> Chart | None:
    import matplotlib.pyplot as plt

    branded = [r for r in rows if any(b.share for b in r.brands)]
    if not branded:
        return None
    title = _("Competitor share and price by market")
    figure, axes = plt.subplots(1, len(branded), figsize=(6.4, 0.5 + 0.42 * max(len(r.brands) for r in branded)),
                                squeeze=False)
    top = max(b.share.value for r in branded for b in r.brands if b.share)
    for axis, row in zip(axes[0], branded):
        brands = [b for b in row.brands if b.share][::-1]
        shares = [b.share.value for b in brands if b.share]
        colours = [_ACCENT if n == len(brands) - 1 else _SECOND for n in range(len(brands))]
        axis.barh([b.name for b in brands], shares, color=colours, height=0.6)
        for y, brand in enumerate(brands):
            price = f" · {format_measure(brand.price.value, brand.price.key, locale)}" if brand.price else ""
            axis.annotate(f"{format_measure(brand.share.value if brand.share else None, '%', locale)}{price}",
                          (shares[y], y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7,
                          color=_INK)
        axis.set_xlim(0, top * 2.4)
        axis.set_xticks([])
        axis.spines["bottom"].set_visible(False)
        axis.set_title(row.market, loc="left", fontsize=8, color=_MUTED)
    figure.tight_layout()
    return _chart(figure, "chart-competitors", title, png)


def build_charts(rows: list[MarketRow], gettext: Callable[[str], str] = _english, locale: str = "en", *,
                 png: bool = False) -> list[Chart]:
    """The charts the data supports, in report order (none when there is nothing to draw), titled and labelled in
    the report's language and locale; with `png`, each also as a PNG (the Figma export's image fills)."""
    import matplotlib

    matplotlib.use("Agg")
    cjk = locale.replace("-", "_").split("_")[0] in ("ja", "zh", "ko")  # compact CJK amounts ("€14.8億")
    style = {**_STYLE, "font.family": [_STYLE["font.family"], *_CJK_FONTS]} if cjk else _STYLE
    with _LOCK, matplotlib.rc_context(style):  # type: ignore[arg-type]
        charts = [_market_chart(rows, gettext, locale, png), _competitor_chart(rows, gettext, locale, png)]
    return [c for c in charts if c is not None]
