"""Drawing a declared dashboard: each panel's data function called, its answer checked and laid out.

A panel that fails never takes the page down: the failure is logged with its
traceback and the panel says what went wrong, while the others are drawn.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from . import charts
from .charts import BarChart, Number, Row
from .dashboards import Dashboard, Panel, PanelData

logger = logging.getLogger(__name__)

#: Most bars or list entries one panel draws; more is a data function's mistake.
MAX_POINTS = 100


class _WrongShape(Exception):
    """A data function answered something its panel cannot draw."""


@dataclass(frozen=True)
class DrawnPanel:
    """What the template draws for one panel: its figure, chart or list, or its error."""

    kind: str
    title: str
    dom_id: str
    note: str = ""
    error: str = ""
    figure: str = ""
    figure_value: Number | None = None
    chart: BarChart | None = None
    summary: str = ""
    rows: list[Row] = field(default_factory=list)


def _number(value: Any, what: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _WrongShape(f"{what} is a {type(value).__name__}, not a number")
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:
        raise _WrongShape(f"{what} is not a finite number")
    return value


def _points(answer: Any) -> list[tuple[str, Number]]:
    """``(label, number)`` pairs from a mapping or an iterable of pairs."""
    if isinstance(answer, Mapping):
        answer = list(answer.items())
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        raise _WrongShape(
            f"the answer is a {type(answer).__name__}, not (label, number) pairs or a mapping"
        )
    points = []
    for index, pair in enumerate(answer):
        if index == MAX_POINTS:
            raise _WrongShape(f"the answer has more than {MAX_POINTS} entries")
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or pair[0] is None:
            raise _WrongShape(f"entry {index} is not a (label, number) pair")
        points.append((str(pair[0]), _number(pair[1], f"the value of entry {index}")))
    return points


def _draw_answer(panel: Panel, answer: Any, drawn: dict[str, Any]) -> DrawnPanel:
    def fmt(value: Number) -> str:
        return charts.format_number(value, panel.format)

    if panel.kind == "figure":
        if answer is None:
            return DrawnPanel(**drawn)
        value = _number(answer, "the answer")
        return DrawnPanel(**drawn, figure=fmt(value), figure_value=value)
    points = _points(answer)
    if panel.kind == "bar":
        chart = charts.bar_chart(points, fmt) if points else None
        return DrawnPanel(**drawn, chart=chart, summary=charts.summary(points, fmt))
    return DrawnPanel(**drawn, rows=charts.ranked_rows(points, fmt))


def draw_panel(dashboard: Dashboard, index: int, panel: Panel, properties: Any) -> DrawnPanel:
    """Call one panel's data function with ``properties`` and lay out its answer."""
    drawn: dict[str, Any] = {
        "kind": panel.kind,
        "title": panel.title,
        "dom_id": f"upsolve-panel-{index}",
    }
    where = f"panel {panel.title!r} of sandbox dashboard {dashboard.id!r}"
    try:
        answer = panel.load()(properties)
    except Exception as err:
        logger.exception("The data function %s of %s failed.", panel.data_path, where)
        error = f"Its data function {panel.data_path} raised {type(err).__name__}; see the log."
        return DrawnPanel(**drawn, error=error)
    if isinstance(answer, PanelData):
        answer, drawn["note"] = answer.data, str(answer.note)
    try:
        return _draw_answer(panel, answer, drawn)
    except _WrongShape as err:
        logger.error("The data function %s of %s answered badly: %s.", panel.data_path, where, err)
        expected = "a number or None" if panel.kind == "figure" else "(label, number) pairs"
        error = f"Its data function {panel.data_path} should answer {expected}: {err}."
        return DrawnPanel(**drawn, error=error)


def draw(dashboard: Dashboard, properties: Mapping[str, Any]) -> list[DrawnPanel]:
    """Every panel of ``dashboard``, each data function given a read-only copy of ``properties``."""
    frozen = MappingProxyType(dict(properties))
    return [draw_panel(dashboard, n, panel, frozen) for n, panel in enumerate(dashboard.panels, 1)]
