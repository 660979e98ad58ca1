"""The data of the demo's "Revenue overview", filtered the way its Upsolve rules would filter it.

In Upsolve, the dashboard's row-level security rules would read the user's properties::

    invoice.organization = {{user.organization_id}}
    invoice.issued_on >= start of the plan's window   (free: 3 months, pro: 12)

The sandbox calls each function below with the properties of the token that
opened the dashboard (``settings.UPSOLVE_SANDBOX["DASHBOARDS"]``), so Acme and
Globex see their own invoices only, and a plan change shows after a refresh.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from django_upsolve.sandbox.dashboards import PanelData

from .models import Invoice, Organization

#: How many months of invoices each plan shows, the current month included.
PLAN_MONTHS = {Organization.Plan.FREE: 3, Organization.Plan.PRO: 12}
#: How many customers "Top customers" lists.
TOP_CUSTOMERS = 5
CENT = Decimal("0.01")

Properties = Mapping[str, Any]


def recent_months(count: int, today: date | None = None) -> list[date]:
    """The first days of the last ``count`` months, oldest first, this month last."""
    today = today or timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def months_shown(properties: Properties) -> int:
    """The plan's window; an unknown or missing plan gets the smallest one."""
    return PLAN_MONTHS.get(properties.get("plan"), PLAN_MONTHS[Organization.Plan.FREE])


def visible_invoices(properties: Properties) -> QuerySet[Invoice]:
    """The invoices the rules let through: the user's organization's, in the plan's window.

    No ``organization_id`` property, no rows: the rule matches nothing.
    """
    organization = properties.get("organization_id")
    if not organization:
        return Invoice.objects.none()
    start = recent_months(months_shown(properties))[0]
    return Invoice.objects.filter(organization__slug=str(organization), issued_on__gte=start)


def _money(value: Decimal | None) -> Decimal:
    """A sum in whole cents (SQLite's sums of decimals carry float noise), zero for no rows."""
    return (value or Decimal(0)).quantize(CENT)


def window_note(properties: Properties) -> str:
    """Which rows the properties let through, printed under each panel's title."""
    if not properties.get("organization_id"):
        return "No organization_id property: the rules let no invoice through."
    plan = properties.get("plan")
    months = months_shown(properties)
    if plan not in PLAN_MONTHS:
        return f"No known plan: the last {months} months."
    label = Organization.Plan(plan).label
    upgrade = "" if plan == Organization.Plan.PRO else " Pro shows 12."
    return f"{label} plan: the last {months} months.{upgrade}"


def total_revenue(properties: Properties) -> PanelData:
    """The sum of the visible invoices."""
    total = visible_invoices(properties).aggregate(total=Sum("amount"))["total"]
    return PanelData(_money(total), note=window_note(properties))


def invoice_count(properties: Properties) -> PanelData:
    """How many invoices are visible."""
    return PanelData(visible_invoices(properties).count(), note=window_note(properties))


def customer_count(properties: Properties) -> PanelData:
    """How many customers the visible invoices went to."""
    customers = visible_invoices(properties).values("customer").distinct().count()
    return PanelData(customers, note=window_note(properties))


def revenue_per_month(properties: Properties) -> PanelData:
    """Revenue of each month of the plan's window, months without invoices at zero."""
    totals = {
        row["month"]: row["total"]
        for row in visible_invoices(properties)
        .annotate(month=TruncMonth("issued_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    months = recent_months(months_shown(properties))
    points = [(month.strftime("%b %Y"), _money(totals.get(month))) for month in months]
    return PanelData(points, note=window_note(properties))


def top_customers(properties: Properties) -> PanelData:
    """The customers who paid most in the window, largest first."""
    rows = (
        visible_invoices(properties)
        .values("customer")
        .annotate(total=Sum("amount"))
        .order_by("-total", "customer")[:TOP_CUSTOMERS]
    )
    points = [(row["customer"], _money(row["total"])) for row in rows]
    return PanelData(points, note=window_note(properties))
