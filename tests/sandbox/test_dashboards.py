"""``UPSOLVE_SANDBOX["DASHBOARDS"]``: its format, its errors and its system checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from django_upsolve.sandbox.checks import check_dashboards
from django_upsolve.sandbox.dashboards import Panel, declared_dashboards, get_dashboard

from . import dashboard_data

DATA = "tests.sandbox.dashboard_data"


def panel(**overrides: Any) -> dict[str, Any]:
    return {"kind": "figure", "title": "Total", "data": f"{DATA}.total", **overrides}


def dashboards(settings: Any, value: Any) -> None:
    settings.UPSOLVE_SANDBOX = {"DASHBOARDS": value}


def test_a_declared_dashboard_is_read_with_its_panels(settings: Any) -> None:
    dashboards(
        settings,
        {
            "revenue": {
                "title": "Revenue",
                "description": "Our invoices.",
                "panels": [
                    panel(format="${:,.0f}"),
                    {"kind": "bar", "title": "Per month", "data": dashboard_data.per_month},
                    {"kind": "top", "title": "Top", "data": f"{DATA}.top"},
                ],
            }
        },
    )

    revenue = get_dashboard("revenue")

    assert revenue is not None
    assert (revenue.title, revenue.description) == ("Revenue", "Our invoices.")
    assert [(p.kind, p.title, p.format) for p in revenue.panels] == [
        ("figure", "Total", "${:,.0f}"),
        ("bar", "Per month", None),
        ("top", "Top", None),
    ]
    assert revenue.panels[0].load() is dashboard_data.total
    assert revenue.panels[1].data_path == f"{DATA}.per_month"
    assert get_dashboard("other") is None


@pytest.mark.parametrize("value", [None, {}])
def test_no_setting_declares_no_dashboard(settings: Any, value: Any) -> None:
    dashboards(settings, value)

    assert declared_dashboards() == {}
    assert check_dashboards() == []


def test_dotted_paths_are_imported_only_when_used(settings: Any) -> None:
    dashboards(settings, {"d": {"title": "D", "panels": [panel(data="no.such.module.total")]}})

    dashboard = get_dashboard("d")

    assert dashboard is not None
    with pytest.raises(ImproperlyConfigured, match=r"Cannot import no\.such\.module\.total"):
        dashboard.panels[0].load()


def test_a_path_to_something_not_callable_is_refused_on_use() -> None:
    with pytest.raises(ImproperlyConfigured, match="NOT_CALLABLE is not callable"):
        Panel(kind="figure", title="T", data=f"{DATA}.NOT_CALLABLE").load()


MALFORMED = [
    pytest.param(["d"], r"\['DASHBOARDS'\] must be a dict mapping", id="not-a-dict"),
    pytest.param({"d": "Revenue"}, r"\['DASHBOARDS'\]\['d'\] must be a dict", id="spec"),
    pytest.param({"": {"title": "T", "panels": [panel()]}}, "non-empty string id", id="id"),
    pytest.param({"a/b": {"title": "T", "panels": [panel()]}}, "without '/'", id="slash"),
    pytest.param({"d": {"panels": [panel()]}}, r"\['title'\] must be a non-empty", id="title"),
    pytest.param({"d": {"title": " ", "panels": [panel()]}}, r"\['title'\]", id="blank"),
    pytest.param({"d": {"title": "T"}}, r"\['panels'\] must be a non-empty list", id="panels"),
    pytest.param({"d": {"title": "T", "panels": []}}, r"\['panels'\] must be", id="empty"),
    pytest.param({"d": {"title": "T", "panels": "p"}}, r"\['panels'\] must be", id="str"),
    pytest.param(
        {"d": {"title": "T", "panels": [panel()], "colour": "red"}},
        r"unknown keys \['colour'\]",
        id="dashboard-key",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": ["figure"]}}, r"\['panels'\]\[0\] must be a dict", id="p"
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(kind="pie")]}},
        r"\['panels'\]\[0\]\['kind'\] must be one of 'figure', 'bar', 'top'",
        id="kind",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(data=None)]}},
        r"\['data'\] must be a callable or the dotted path of one",
        id="data",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(data=3)]}}, r"\['data'\] must be", id="data-int"
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(title=None)]}},
        r"\['panels'\]\[0\]\['title'\]",
        id="panel-title",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(), panel(query="SELECT 1")]}},
        r"\['panels'\]\[1\] has unknown keys \['query'\]",
        id="panel-key",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(format="$")]}},
        r"\['format'\] must be a str\.format pattern with one field",
        id="no-field",
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(format="{} to {}")]}}, r"\['format'\]", id="two"
    ),
    pytest.param(
        {"d": {"title": "T", "panels": [panel(format="{:d}")]}}, r"\['format'\]", id="int-only"
    ),
    pytest.param({"d": {"title": "T", "panels": [panel(format="{")]}}, r"\['format'\]", id="{"),
    pytest.param({"d": {"title": "T", "panels": [panel(format=2)]}}, r"\['format'\]", id="int"),
]


@pytest.mark.parametrize(("value", "message"), MALFORMED)
def test_a_malformed_setting_is_improperly_configured_and_fails_check_e001(
    settings: Any, value: Any, message: str
) -> None:
    dashboards(settings, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        declared_dashboards()
    [error] = check_dashboards()
    assert error.id == "upsolve_sandbox.E001"
    assert error.obj == "settings.UPSOLVE_SANDBOX"
    assert "UPSOLVE_SANDBOX['DASHBOARDS']" in error.msg
    assert "django_upsolve.sandbox.dashboards" in (error.hint or "")


def test_a_malformed_sandbox_setting_fails_check_e001(settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = ["DASHBOARDS"]

    [error] = check_dashboards()

    assert error.id == "upsolve_sandbox.E001"
    assert "must be a dict" in error.msg


def test_check_e002_names_each_panel_whose_data_does_not_import(settings: Any) -> None:
    dashboards(
        settings,
        {
            "d": {
                "title": "D",
                "panels": [
                    panel(),
                    panel(title="Gone", data=f"{DATA}.gone"),
                    panel(title="Number", data=f"{DATA}.NOT_CALLABLE"),
                ],
            }
        },
    )

    errors = check_dashboards()

    assert [error.id for error in errors] == ["upsolve_sandbox.E002"] * 2
    assert "Panel 'Gone' of sandbox dashboard 'd': Cannot import" in errors[0].msg
    assert "Panel 'Number'" in errors[1].msg
    assert "not callable" in errors[1].msg


def test_the_checks_run_with_the_project_checks(settings: Any, db: None) -> None:
    dashboards(settings, {"d": {"title": "D"}})

    ids = {message.id for message in checks.run_checks()}

    assert "upsolve_sandbox.E001" in ids
