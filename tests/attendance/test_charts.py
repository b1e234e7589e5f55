"""The server-side SVG chart, pure: well-formed, accessible, escaped, scaled to the data."""

import xml.etree.ElementTree as ET

import pytest

from facilitation.attendance.charts import ChartPoint, attendance_chart, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def chart(points, **kw):
    return attendance_chart(points, title="Attendance", description="Five weeks", **kw)


def test_the_chart_is_well_formed_and_labelled_for_screen_readers():
    svg = chart([ChartPoint("1 Dec", 10, 4), ChartPoint("8 Dec", 7, 1)])
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "attendance-chart-title attendance-chart-desc"
    assert root.find(f"{SVG}title").text == "Attendance"
    assert root.find(f"{SVG}desc").text == "Five weeks"
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_one_bar_per_point_with_a_tooltip_and_bar_heights_in_proportion():
    root = ET.fromstring(chart([ChartPoint("a", 10, 4), ChartPoint("b", 5, 0)]))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "a: 10 attended, 4 newcomers",
        "b: 5 attended, 0 newcomers",
    ]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1])
    line = root.find(f"{SVG}polyline")
    assert line is not None and len(line.get("points").split()) == 2


def test_labels_and_titles_are_escaped():
    svg = attendance_chart(
        [ChartPoint("<b>&</b>", 3)],
        title='Circle "<script>"',
        description="a & b",
        chart_id='x" onload="alert(1)',
    )
    root = ET.fromstring(svg)  # still well-formed
    assert "<script>" not in svg and "<b>" not in svg and 'onload="' not in svg
    assert root.find(f"{SVG}title").text == 'Circle "<script>"'


def test_without_a_line_there_is_no_polyline():
    root = ET.fromstring(chart([ChartPoint("a", 3), ChartPoint("b", 4)], line_name=None))
    assert root.find(f"{SVG}polyline") is None


def test_an_empty_chart_says_so():
    root = ET.fromstring(chart([]))
    assert "Nothing to show yet." in "".join(root.itertext())


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (3, 1), (5, 1), (6, 2), (10, 2), (11, 5), (40, 10), (230, 50)]
)
def test_gridlines_step_by_one_two_or_five_times_a_power_of_ten(largest, step):
    assert nice_step(largest) == step


def test_many_points_label_only_some_dates():
    points = [ChartPoint(f"d{i}", i) for i in range(30)]
    texts = [t.text for t in ET.fromstring(chart(points)).iter(f"{SVG}text")]
    shown = [t for t in texts if t and t.startswith("d")]
    assert 10 <= len(shown) <= 15 and "d0" in shown
