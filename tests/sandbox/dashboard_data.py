"""Data functions for the sandbox dashboard tests: a tiny invoice table filtered like RLS rules.

The rules they stand for: ``org = {{user.organization_id}}``, and the free plan
sees the last 3 months only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_upsolve.sandbox.dashboards import PanelData

MONTHS = [f"2026-{month:02d}" for month in range(1, 13)]
#: organization, month, customer, amount
INVOICES = [
    *(("acme", month, "Initech", 1000 + 100 * n) for n, month in enumerate(MONTHS)),
    *(("acme", month, "Hooli", 400) for month in MONTHS),
    *(("globex", month, "Oscorp", 250) for month in MONTHS),
]
#: Every properties mapping a data function was given, in call order.
SEEN: list[Mapping[str, Any]] = []


def visible(properties: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    months = MONTHS if properties.get("plan") == "pro" else MONTHS[-3:]
    return [
        row for row in INVOICES if row[0] == properties.get("organization_id") and row[1] in months
    ]


def total(properties: Mapping[str, Any]) -> int:
    SEEN.append(properties)
    return sum(row[3] for row in visible(properties))


def per_month(properties: Mapping[str, Any]) -> list[tuple[str, int]]:
    rows = visible(properties)
    months = sorted({row[1] for row in rows})
    return [(month, sum(row[3] for row in rows if row[1] == month)) for month in months]


def top(properties: Mapping[str, Any]) -> PanelData:
    totals: dict[str, int] = {}
    for _, _, customer, amount in visible(properties):
        totals[customer] = totals.get(customer, 0) + amount
    ranked = dict(sorted(totals.items(), key=lambda item: -item[1]))
    return PanelData(ranked, note=f"plan {properties.get('plan')}")


def nothing(properties: Mapping[str, Any]) -> None:
    return None


def broken(properties: Mapping[str, Any]) -> int:
    raise ZeroDivisionError("the detail of a failure stays in the log")


def not_pairs(properties: Mapping[str, Any]) -> str:
    return "Jan: 10"


def mutate(properties: Mapping[str, Any]) -> int:
    properties["plan"] = "pro"  # type: ignore[index]
    return 1


NOT_CALLABLE = 42
