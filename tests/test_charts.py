"""hub.admin.charts: server-rendered SVG bars, escaped, scaled to a round top."""

import re

import pytest

from hub.admin import charts


@pytest.mark.parametrize("value, top", [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (180, 200), (501, 1000)])
def test_nice_ceiling(value, top):
    assert charts.nice_ceiling(value) == top


def bar_heights(svg):
    return [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]


def test_bar_chart_draws_one_scaled_bar_per_value_with_labels():
    svg = str(charts.bar_chart(["Mon", "Tue", "Wed"], [0, 5, 10], width=300, height=150, title="Sent"))
    assert svg.startswith('<svg class="hub-chart"') and 'viewBox="0 0 300 150"' in svg
    heights = bar_heights(svg)
    assert len(heights) == 3 and heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1], abs=0.2)
    plot_height = 150 - 16 - 22
    assert heights[2] == pytest.approx(plot_height)  # 10 is the top of the axis
    for label in ("Mon", "Tue", "Wed", ">5<", ">10<", "<title>Sent</title>", "<title>Tue: 5</title>"):
        assert label in svg


def test_bar_chart_escapes_labels_and_title():
    svg = str(charts.bar_chart(["<b>"], [1], title='"x" & <y>'))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&amp; &lt;y&gt;" in svg


def test_bar_chart_needs_one_label_per_value():
    with pytest.raises(ValueError):
        charts.bar_chart(["a"], [1, 2])


def test_bar_chart_of_zeros_has_an_axis_and_empty_bars():
    svg = str(charts.bar_chart(["a", "b"], [0, 0]))
    assert bar_heights(svg) == [0, 0] and ">1<" in svg


def test_sparkline_scales_to_the_largest_value_and_keeps_zero_days_visible():
    svg = str(charts.sparkline([0, 2, 4], width=30, height=21, title="t"))
    assert bar_heights(svg) == [1, 10, 20]
    assert svg.count("<rect") == 3 and 'width="30"' in svg
