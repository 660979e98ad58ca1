"""Sandbox dashboards: the project's own data, drawn as charts, filtered by the token's properties.

In Upsolve, a dashboard's row-level security rules read the user's properties
as ``{{user.<key>}}`` (``organization_id = {{user.organization_id}}``). Declare
a stand-in for a dashboard here and its share page draws real figures and
charts from the project's data, filtered by the ``properties`` claim of the
token that opened it: properties can be tried locally before any rule is
written in Upsolve. ::

    UPSOLVE_SANDBOX = {
        "DASHBOARDS": {
            "revenue-overview": {
                "title": "Revenue overview",
                "description": "Invoices of the user's organization.",
                "panels": [
                    {"kind": "figure", "title": "Total revenue",
                     "data": "billing.dashboards.total_revenue", "format": "${:,.0f}"},
                    {"kind": "bar", "title": "Revenue per month",
                     "data": "billing.dashboards.revenue_per_month", "format": "${:,.0f}"},
                    {"kind": "top", "title": "Top customers",
                     "data": "billing.dashboards.top_customers", "format": "${:,.0f}"},
                ],
            },
        },
    }

A dashboard has a ``title``, an optional ``description`` and a non-empty list
of ``panels``. A panel has a ``kind``, a ``title``, its ``data`` (a callable,
or its dotted path, imported when the page is first drawn) and optionally a
``format``: a ``str.format`` pattern with one field for its numbers (default:
thousands separators, two decimals unless whole).

``data`` is called with the token's properties (a read-only mapping, empty
when the token has none) and returns, by ``kind``:

``figure``
    a number (``int``, ``float`` or ``Decimal``), or None when there is none;
``bar``
    ``(label, number)`` pairs, or a mapping of label to number: one bar each, in order;
``top``
    the same, drawn as a ranked list with horizontal bars, in the order given.

It may wrap its answer as ``PanelData(answer, note="...")`` to print a note
under the panel's title, say which rows the properties let through. A data
function that raises, or answers in the wrong shape, draws an error panel and
is logged on ``django_upsolve.sandbox``; the other panels are drawn as usual.
Ids not declared keep the plain share page, which shows the token's claims.

A malformed setting raises ``ImproperlyConfigured`` when a share page is drawn;
the system checks ``upsolve_sandbox.E001`` (malformed) and ``E002`` (a data
path that does not import to a callable) report it at startup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from string import Formatter
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import sandbox_setting

SETTING = "UPSOLVE_SANDBOX['DASHBOARDS']"
#: The panel kinds a dashboard may hold.
KINDS = ("figure", "bar", "top")
_DASHBOARD_KEYS = {"title", "description", "panels"}
_PANEL_KEYS = {"kind", "title", "data", "format"}

DataFunction = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class PanelData:
    """A data function's answer with a note to print under the panel's title."""

    data: Any
    note: str = ""


@dataclass(frozen=True)
class Panel:
    """One declared panel; ``data`` is a callable or the dotted path of one."""

    kind: str
    title: str
    data: DataFunction | str
    format: str | None = None

    @property
    def data_path(self) -> str:
        """The dotted path of the data function, for messages and logs."""
        data = self.data
        if isinstance(data, str):
            return data
        return f"{getattr(data, '__module__', '?')}.{getattr(data, '__qualname__', repr(data))}"

    def load(self) -> DataFunction:
        """The data function, imported now if it was given as a dotted path.

        Raises ``ImproperlyConfigured`` when the path does not lead to a callable.
        """
        data = self.data
        if isinstance(data, str):
            try:
                data = import_string(data)
            except ImportError as err:
                raise ImproperlyConfigured(f"Cannot import {self.data}: {err}") from err
        if not callable(data):
            raise ImproperlyConfigured(f"{self.data_path} is not callable.")
        return data


@dataclass(frozen=True)
class Dashboard:
    """One declared dashboard."""

    id: str
    title: str
    description: str
    panels: tuple[Panel, ...]


def _fail(where: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{where} {problem}")


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be a non-empty string.")
    return value


def _format(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            fields = [field for _, field, _, _ in Formatter().parse(value) if field is not None]
            value.format(1234.5)
        except (ValueError, IndexError, KeyError):
            fields = []
        if len(fields) == 1:
            return value
    raise _fail(where, "must be a str.format pattern with one field, like '${:,.0f}'.")


def _unknown_keys(spec: Mapping[Any, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in spec if key not in allowed)
    if unknown:
        raise _fail(where, f"has unknown keys {unknown}; allowed: {sorted(allowed)}.")


def _panel(spec: Any, where: str) -> Panel:
    if not isinstance(spec, Mapping):
        raise _fail(where, "must be a dict.")
    _unknown_keys(spec, _PANEL_KEYS, where)
    kind = spec.get("kind")
    if kind not in KINDS:
        raise _fail(f"{where}['kind']", f"must be one of {', '.join(map(repr, KINDS))}.")
    data = spec.get("data")
    if not (callable(data) or (isinstance(data, str) and data.strip())):
        raise _fail(f"{where}['data']", "must be a callable or the dotted path of one.")
    return Panel(
        kind=kind,
        title=_text(spec.get("title"), f"{where}['title']"),
        data=data,
        format=_format(spec.get("format"), f"{where}['format']"),
    )


def _dashboard(dashboard_id: Any, spec: Any) -> Dashboard:
    where = f"{SETTING}[{dashboard_id!r}]"
    if not isinstance(dashboard_id, str) or not dashboard_id or "/" in dashboard_id:
        raise _fail(where, "must have a non-empty string id without '/'.")
    if not isinstance(spec, Mapping):
        raise _fail(where, "must be a dict.")
    _unknown_keys(spec, _DASHBOARD_KEYS, where)
    panels = spec.get("panels")
    if not isinstance(panels, Sequence) or isinstance(panels, str) or not panels:
        raise _fail(f"{where}['panels']", "must be a non-empty list.")
    return Dashboard(
        id=dashboard_id,
        title=_text(spec.get("title"), f"{where}['title']"),
        description=_text(spec.get("description"), f"{where}['description']", required=False),
        panels=tuple(_panel(panel, f"{where}['panels'][{n}]") for n, panel in enumerate(panels)),
    )


def declared_dashboards() -> dict[str, Dashboard]:
    """Every dashboard of the setting, checked; raises ``ImproperlyConfigured`` when malformed."""
    value = sandbox_setting("DASHBOARDS") or {}
    if not isinstance(value, Mapping):
        raise _fail(SETTING, "must be a dict mapping dashboard ids to dashboards.")
    return {str(key): _dashboard(key, spec) for key, spec in value.items()}


def get_dashboard(dashboard_id: str) -> Dashboard | None:
    """The declared dashboard ``dashboard_id``, or None when it is not declared."""
    return declared_dashboards().get(dashboard_id)
