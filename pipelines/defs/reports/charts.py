"""The geometry of the HTML report's bar charts, drawn as inline SVG by the page's template
(``bar_chart`` in templates/month_end.html.j2): so the report needs no script and no network.

Amounts stay Decimal in the labels; only the bar geometry is computed in floats (pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipelines.defs.reports.sections import Chart

PALETTE = ("#1f5f8b", "#4f9d69", "#e0a030", "#8e5ea2", "#c8553d", "#5b6770")
ROW_HEIGHT = 18
GROUP_GAP = 12
LABEL_WIDTH = 210
PLOT_WIDTH = 520
VALUE_WIDTH = 120


@dataclass(frozen=True)
class LegendEntry:
    x: int
    colour: str
    name: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: int
    width: float
    colour: str
    series: str
    value: Decimal | int


@dataclass(frozen=True)
class Marker:
    x: float
    y1: int
    y2: int


@dataclass(frozen=True)
class Group:
    category: str
    label_y: float
    bars: list[Bar]
    markers: list[Marker]


@dataclass(frozen=True)
class Layout:
    """Where everything of one chart goes, in pixels."""

    chart: Chart
    width: int
    height: int
    legend: list[LegendEntry]
    marker_legend_x: int | None
    """Where the dashed marker's legend starts; None without markers."""
    zero: float
    axis_top: int
    axis_bottom: int
    groups: list[Group]
    row_height: int = ROW_HEIGHT
    label_x: int = LABEL_WIDTH - 8
    value_x: int = LABEL_WIDTH + PLOT_WIDTH + 6


def layout(chart: Chart) -> Layout:
    """Horizontal grouped bars from a zero axis (negative values go left), with optional
    ± markers per category drawn as dashed lines."""
    values = [[v if v is not None else 0 for v in group] for group in chart.values]
    extremes = [float(v) for group in values for v in group] + [0.0]
    if chart.markers:
        extremes += [float(m) for m in chart.markers] + [-float(m) for m in chart.markers]
    low, high = min(extremes), max(extremes)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return LABEL_WIDTH + (value - low) / span * PLOT_WIDTH

    has_legend = len(chart.series) > 1 or bool(chart.markers)
    top = 28 + (22 if has_legend else 0)
    group_height = len(chart.series) * ROW_HEIGHT + GROUP_GAP
    height = top + len(chart.categories) * group_height + 8
    legend, lx = [], 0
    if has_legend:
        for i, name in enumerate(chart.series):
            legend.append(LegendEntry(lx, PALETTE[i % len(PALETTE)], name))
            lx += 24 + 7 * len(name)
    zero = x(0.0)
    groups = []
    for g, (category, group) in enumerate(zip(chart.categories, values, strict=True)):
        y0 = top + g * group_height
        bars = []
        for i, value in enumerate(group):
            left, right = sorted((zero, x(float(value))))
            bars.append(
                Bar(
                    left,
                    y0 + i * ROW_HEIGHT,
                    max(right - left, 1),
                    PALETTE[i % len(PALETTE)],
                    chart.series[i],
                    value,
                )
            )
        markers = []
        if chart.markers:
            marker = float(chart.markers[g])
            bottom = y0 + len(chart.series) * ROW_HEIGHT
            markers = [Marker(mx, y0, bottom) for mx in (x(marker), x(-marker))]
        groups.append(Group(category, y0 + len(chart.series) * ROW_HEIGHT / 2 + 4, bars, markers))
    return Layout(
        chart,
        LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height,
        legend,
        lx if chart.markers else None,
        zero,
        top - 4,
        height - 6,
        groups,
    )
