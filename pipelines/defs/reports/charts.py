"""Inline SVG charts for the HTML report: drawn here, so the report needs no script and no network.

Amounts stay Decimal in the labels; only the bar geometry is computed in floats (pixels).
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from pipelines.defs.reports.sections import Chart

PALETTE = ("#1f5f8b", "#4f9d69", "#e0a030", "#8e5ea2", "#c8553d", "#5b6770")
ROW_HEIGHT = 18
GROUP_GAP = 12
LABEL_WIDTH = 210
PLOT_WIDTH = 520
VALUE_WIDTH = 120


def _label(value: Decimal | int) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def bar_chart(chart: Chart) -> str:
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

    legend_height = 22 if len(chart.series) > 1 or chart.markers else 0
    top = 28 + legend_height
    group_height = len(chart.series) * ROW_HEIGHT + GROUP_GAP
    height = top + len(chart.categories) * group_height + 8
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(chart.title)}</text>',
    ]
    if legend_height:
        lx = 0
        for i, name in enumerate(chart.series):
            colour = PALETTE[i % len(PALETTE)]
            parts.append(f'<rect x="{lx}" y="26" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{lx + 16}" y="36" class="legend">{escape(name)}</text>')
            lx += 24 + 7 * len(name)
        if chart.markers:
            parts.append(
                f'<line x1="{lx}" y1="32" x2="{lx + 18}" y2="32" class="marker"/>'
                f'<text x="{lx + 22}" y="36" class="legend">{escape(chart.marker_label)}</text>'
            )
    zero = x(0.0)
    parts.append(
        f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{height - 6}" class="axis"/>'
    )
    for g, (category, group) in enumerate(zip(chart.categories, values, strict=True)):
        y0 = top + g * group_height
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y0 + len(chart.series) * ROW_HEIGHT / 2 + 4:.1f}" '
            f'class="category" text-anchor="end">{escape(category)}</text>'
        )
        for i, value in enumerate(group):
            colour = PALETTE[i % len(PALETTE)]
            left, right = sorted((zero, x(float(value))))
            y = y0 + i * ROW_HEIGHT
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 2}" width="{max(right - left, 1):.1f}" '
                f'height="{ROW_HEIGHT - 4}" fill="{colour}"><title>{escape(chart.series[i])}: '
                f"{_label(value)} {escape(chart.unit)}</title></rect>"
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{y + ROW_HEIGHT - 5}" '
                f'class="value">{_label(value)}</text>'
            )
        if chart.markers:
            marker = float(chart.markers[g])
            for mx in (x(marker), x(-marker)):
                parts.append(
                    f'<line x1="{mx:.1f}" y1="{y0}" x2="{mx:.1f}" '
                    f'y2="{y0 + len(chart.series) * ROW_HEIGHT}" class="marker"/>'
                )
    parts.append("</svg>")
    return "".join(parts)
