"""The geometry of the sandbox's SVG charts and the numbers they print."""

from __future__ import annotations

from decimal import Decimal

import pytest

from django_upsolve.sandbox import charts
from django_upsolve.sandbox.charts import Number


def plain(value: Number) -> str:
    return charts.format_number(value)


def dollars(value: Number) -> str:
    return charts.format_number(value, "${:,.0f}")


@pytest.mark.parametrize(
    ("value", "pattern", "text"),
    [
        (1234, None, "1,234"),
        (Decimal("1234.00"), None, "1,234"),
        (Decimal("1234.5"), None, "1,234.50"),
        (0.1 + 0.2, None, "0.30"),
        (-3.0, None, "-3"),
        (Decimal("152594.82"), "${:,.0f}", "$152,595"),
        (0.256, "{:.1%}", "25.6%"),
    ],
)
def test_format_number(value: Number, pattern: str | None, text: str) -> None:
    assert charts.format_number(value, pattern) == text


def test_bars_stand_on_a_zero_baseline_in_proportion_to_their_values() -> None:
    chart = charts.bar_chart([("Jan", 1000), ("Feb", 2000), ("Mar", 4000)], dollars)

    assert [bar.label for bar in chart.bars] == ["Jan", "Feb", "Mar"]
    bottoms = {round(bar.y + bar.height, 2) for bar in chart.bars}
    assert bottoms == {chart.baseline}
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.02)
    assert heights[2] == pytest.approx(4 * heights[0], abs=0.02)
    # Left to right, inside the plot, without overlapping.
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[0].x > chart.left
    assert chart.bars[-1].x + chart.bars[-1].width < chart.right <= chart.width


def test_grid_lines_are_round_numbers_covering_the_largest_value() -> None:
    chart = charts.bar_chart([("a", 17), ("b", 3)], plain)

    assert [tick.label for tick in chart.ticks] == ["0", "5", "10", "15", "20"]
    top = min(tick.y for tick in chart.ticks)
    assert top <= min(bar.y for bar in chart.bars)
    assert max(tick.y for tick in chart.ticks) == chart.baseline
    assert charts.bar_chart([("a", 0.3)], plain).ticks[-1].label == "0.30"


def test_negative_values_hang_below_the_baseline() -> None:
    chart = charts.bar_chart([("gain", 50), ("loss", -20)], plain)

    gain, loss = chart.bars
    assert gain.y + gain.height == pytest.approx(chart.baseline)
    assert loss.y == pytest.approx(chart.baseline)
    assert loss.value_y > loss.y + loss.height
    assert chart.ticks[0].label == "-20"


def test_all_zero_values_still_draw_a_scale() -> None:
    chart = charts.bar_chart([("a", 0), ("b", 0)], plain)

    assert [bar.height for bar in chart.bars] == [0, 0]
    assert len(chart.ticks) >= 2


def test_values_are_printed_on_bars_only_when_they_fit() -> None:
    few = charts.bar_chart([("Oct 2026", 3030), ("Nov 2026", 4423)], dollars)
    many = charts.bar_chart([(f"M{n}", 123456) for n in range(12)], dollars)

    assert few.show_values
    assert not many.show_values


def test_long_labels_break_at_their_first_space_when_bars_are_narrow() -> None:
    narrow = charts.bar_chart([(f"Jan 2026 {n}", 1) for n in range(12)], plain)
    wide = charts.bar_chart([("Jan 2026", 1), ("Feb 2026", 2)], plain)

    assert narrow.bars[0].label_lines == ("Jan", "2026 0")
    assert wide.bars[0].label_lines == ("Jan 2026",)


def test_ranked_rows_keep_their_order_and_scale_to_the_largest() -> None:
    rows = charts.ranked_rows([("Initech", Decimal(500)), ("Hooli", Decimal(125))], dollars)

    assert [(row.rank, row.label, row.value_text, row.length) for row in rows] == [
        (1, "Initech", "$500", 100.0),
        (2, "Hooli", "$125", 25.0),
    ]
    assert [row.length for row in charts.ranked_rows([("a", 0)], plain)] == [0.0]


def test_summary_names_the_range_and_the_highest_bar() -> None:
    points = [("Jan", 10), ("Feb", 30), ("Mar", 20)]

    assert charts.summary(points, plain) == (
        "3 bars, from Jan (10) to Mar (20); highest: Feb (30)."
    )
    assert charts.summary([("Jan", 10)], plain) == "1 bar: Jan, 10."
    assert charts.summary([], plain) == "No data."
