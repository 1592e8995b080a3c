"""Small server-rendered SVG charts for the admin: no JavaScript, no network, no library.

- `bar_chart(labels, values, ...)`: one labelled bar per value, the value above each bar and a
  light grid; for "orders sent to the WMS per day".
- `sparkline(values, ...)`: a tiny bar strip for a table cell, the same data per connection.

Both return markup already escaped (`SafeString`): labels and titles go through `format_html`, and
every number is formatted by us, so nothing from the database reaches the SVG unescaped. Sizes are
in CSS pixels; the SVG scales down with `max-width: 100%` in narrow columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Colours come from the admin's CSS variables, so dark mode works; the fallbacks are the light theme.
BAR_FILL = "var(--link-fg, #417893)"
EMPTY_FILL = "var(--hairline-color, #e8e8e8)"
TEXT_FILL = "var(--body-quiet-color, #666)"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k that is >= value (at least 1): a round top for the axis."""
    value = max(1, int(value))
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    width: int = 640,
    height: int = 180,
    title: str = "",
) -> SafeString:
    """A vertical bar chart of `values` with one `labels` entry under each bar."""
    if len(labels) != len(values):
        raise ValueError("bar_chart needs one label per value")
    count = max(1, len(values))
    top = nice_ceiling(max(values, default=0))
    left, right, above, below = 34, 6, 16, 22
    plot_w, plot_h = width - left - right, height - above - below
    slot = plot_w / count
    bar_w = max(2.0, slot * 0.7)

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="10" fill="{}">{}</text>',
        (
            (left, width - right, _num(y), _num(y), EMPTY_FILL, left - 4, _num(y + 3), TEXT_FILL, tick)
            for tick in (0, top // 2 if top >= 2 else None, top)
            if tick is not None
            for y in (above + plot_h - plot_h * tick / top,)
        ),
    )
    bars = []
    for index, (label, value) in enumerate(zip(labels, values)):
        x = left + slot * index + (slot - bar_w) / 2
        bar_h = plot_h * value / top
        y = above + plot_h - bar_h
        bars.append(
            format_html(
                "<g><title>{}: {}</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" rx="1.5" fill="{}"/>'
                "{}"
                '<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text></g>',
                label,
                value,
                _num(x),
                _num(y),
                _num(bar_w),
                _num(max(bar_h, 0.0)),
                BAR_FILL if value else EMPTY_FILL,
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text>',
                    _num(x + bar_w / 2),
                    _num(y - 3),
                    TEXT_FILL,
                    value,
                )
                if value
                else "",
                _num(x + bar_w / 2),
                height - 6,
                TEXT_FILL,
                label,
            )
        )
    return format_html(
        '<svg class="hub-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="img" aria-label="{t}"><title>{t}</title>{grid}{bars}</svg>',
        w=width,
        h=height,
        t=title,
        grid=grid,
        bars=mark_safe("".join(bars)),
    )


def sparkline(values: Sequence[int], *, width: int = 84, height: int = 24, title: str = "") -> SafeString:
    """Tiny bars scaled to the largest value; a zero is a 1-pixel tick so the days stay visible."""
    count = max(1, len(values))
    top = max(values, default=0) or 1
    slot = width / count
    bar_w = max(1.0, slot - 1.5)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
        (
            (_num(slot * i), _num(height - h), _num(bar_w), _num(h), BAR_FILL if value else EMPTY_FILL)
            for i, value in enumerate(values)
            for h in (max(1.0, (height - 1) * value / top),)
        ),
    )
    return format_html(
        '<svg class="hub-sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="img" aria-label="{t}"><title>{t}</title>{bars}</svg>',
        w=width,
        h=height,
        t=title,
        bars=bars,
    )


def _num(value: float) -> str:
    """Coordinates with at most one decimal: short markup, stable output for tests."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
