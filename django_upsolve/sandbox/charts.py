"""The geometry of the sandbox's charts, computed on the server and drawn as inline SVG.

No chart library and no script: the share pages must work under a strict
Content-Security-Policy, so templates draw ``<rect>`` and ``<text>`` elements
at the coordinates computed here, and colours come from the stylesheet.
Every number is also given as text (labels, ``<title>`` tooltips, a summary),
so the charts read without sight of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

Number = int | float | Decimal
Formatter = Callable[[Number], str]

#: The bar chart's drawing box (SVG user units); the SVG scales to its container.
WIDTH = 640
HEIGHT = 200
#: Rough width of one character of chart text, to keep labels from overlapping.
CHAR_WIDTH = 6.6
_TOP = 18
_BOTTOM = 40
_RIGHT = 8
_BAR_SHARE = 0.62
_TICKS = 4


def format_number(value: Number, pattern: str | None = None) -> str:
    """``value`` through ``pattern`` (``str.format``), else with thousands separators.

    Without a pattern whole numbers show no decimals and others show two.
    """
    if pattern:
        return pattern.format(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


@dataclass(frozen=True)
class Tick:
    """A horizontal grid line at ``y`` and its value's label."""

    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    """One bar: its box, its label (one or two lines) and its value as text."""

    label: str
    value: Number
    value_text: str
    x: float
    y: float
    width: float
    height: float
    label_lines: tuple[str, ...]
    value_y: float

    @property
    def center(self) -> float:
        """The bar's middle, where its label and value are centred."""
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class BarChart:
    """A vertical bar chart in a ``WIDTH`` × ``HEIGHT`` box."""

    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    left: float
    right: float
    baseline: float
    show_values: bool
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def label_y(self) -> float:
        """The baseline of the first line of the bars' labels."""
        return self.height - _BOTTOM + 16

    @property
    def tick_x(self) -> float:
        """Where the grid lines' labels end, left of the plot."""
        return self.left - 6


@dataclass(frozen=True)
class Row:
    """One entry of a ranked list: its rank, label, value and bar length (0–100)."""

    rank: int
    label: str
    value: Number
    value_text: str
    length: float


def _step(span: float) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts ``span`` into about ``_TICKS`` parts."""
    raw = span / _TICKS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(power * f for f in (1, 2, 2.5, 5, 10) if power * f >= raw)


def _ticks(low: float, high: float) -> list[float]:
    if low == high:
        high = low + 1
    step = _step(high - low)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [n * step for n in range(first, last + 1)]


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _label_lines(label: str, room: float) -> tuple[str, ...]:
    """The label on one line, or on two (at its first space) when it is wider than ``room``."""
    first, _, rest = label.partition(" ")
    return (first, rest) if rest and _text_width(label) > room else (label,)


def bar_chart(points: Sequence[tuple[str, Number]], fmt: Formatter) -> BarChart:
    """Bars for ``(label, value)`` pairs, in order, on a zero baseline with round grid lines."""
    values = [float(value) for _, value in points]
    grid = _ticks(min([0.0, *values]), max([0.0, *values]))
    tick_texts = [fmt(_tick_value(t)) for t in grid]
    left = 10 + max(_text_width(text) for text in tick_texts)
    plot_height = HEIGHT - _TOP - _BOTTOM
    low, high = grid[0], grid[-1]

    def y_of(value: float) -> float:
        return _TOP + (high - value) / (high - low) * plot_height

    slot = (WIDTH - _RIGHT - left) / max(len(points), 1)
    texts = [fmt(value) for _, value in points]
    bars = []
    for index, ((label, value), number, text) in enumerate(zip(points, values, texts, strict=True)):
        top, bottom = sorted((y_of(number), y_of(0.0)))
        width = slot * _BAR_SHARE
        bars.append(
            Bar(
                label=label,
                value=value,
                value_text=text,
                x=round(left + index * slot + (slot - width) / 2, 2),
                y=round(top, 2),
                width=round(width, 2),
                height=round(bottom - top, 2),
                label_lines=_label_lines(label, slot - 4),
                value_y=round(top - 5 if number >= 0 else bottom + 13, 2),
            )
        )
    return BarChart(
        bars=tuple(bars),
        ticks=tuple(Tick(round(y_of(t), 2), txt) for t, txt in zip(grid, tick_texts, strict=True)),
        left=round(left, 2),
        right=WIDTH - _RIGHT,
        baseline=round(y_of(0.0), 2),
        show_values=all(_text_width(text) <= slot - 2 for text in texts),
    )


def _tick_value(tick: float) -> Number:
    """A grid value as the formatter expects it: whole ticks as ints, so no ``.00`` shows."""
    return int(tick) if tick == int(tick) else Decimal(str(round(tick, 10)))


def ranked_rows(points: Sequence[tuple[str, Number]], fmt: Formatter) -> list[Row]:
    """Ranked entries in the order given, each bar as long as its share of the largest value."""
    largest = max((abs(float(value)) for _, value in points), default=0.0)
    return [
        Row(
            rank=rank,
            label=label,
            value=value,
            value_text=fmt(value),
            length=round(abs(float(value)) / largest * 100, 2) if largest else 0.0,
        )
        for rank, (label, value) in enumerate(points, start=1)
    ]


def summary(points: Sequence[tuple[str, Number]], fmt: Formatter) -> str:
    """One sentence that says what a bar chart shows, for its ``<desc>``."""
    if not points:
        return "No data."
    (first, first_value), (last, last_value) = points[0], points[-1]
    top, top_value = max(points, key=lambda point: point[1])
    if len(points) == 1:
        return f"1 bar: {first}, {fmt(first_value)}."
    return (
        f"{len(points)} bars, from {first} ({fmt(first_value)}) to {last} ({fmt(last_value)});"
        f" highest: {top} ({fmt(top_value)})."
    )
