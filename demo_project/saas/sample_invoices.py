"""A year of made-up invoices for each demo organization, so that its dashboard has data to draw."""

import calendar
import random
from datetime import date
from decimal import Decimal

from django.db.models.functions import TruncMonth
from django.utils import timezone

from .dashboards import CENT, PLAN_MONTHS, recent_months
from .models import Invoice, Organization

#: Each organization's own customers, with what a typical monthly invoice to them comes to.
CUSTOMERS = {
    "acme": [
        ("Stark Industries", 5400),
        ("Initech", 4200),
        ("Umbrella Health", 3100),
        ("Wayne Logistics", 2600),
        ("Hooli", 1900),
        ("Soylent Foods", 1200),
        ("Vandelay Imports", 800),
    ],
    "globex": [
        ("Tyrell Corp", 1400),
        ("Oscorp", 1100),
        ("Cyberdyne", 950),
        ("Wonka Sweets", 600),
        ("Pied Piper", 450),
    ],
}
#: How much each organization's revenue grows from one month to the next.
GROWTH = {"acme": 0.05, "globex": 0.02}
#: The chance that a customer buys nothing in a given month.
SKIP_CHANCE = 0.15


def _month_invoices(org: Organization, month: date, age: int, today: date) -> list[Invoice]:
    """One month's invoices (``age`` months ago); the same organization and month give the same."""
    slug = org.slug
    rng = random.Random(f"{slug}:{month:%Y-%m}")
    last_day = today.day if age == 0 else calendar.monthrange(month.year, month.month)[1]
    shrink = (1 - GROWTH.get(slug, 0.0)) ** age
    invoices = []
    for number, (customer, typical) in enumerate(CUSTOMERS.get(slug, []), start=1):
        if rng.random() < SKIP_CHANCE:
            continue
        invoices.append(
            Invoice(
                organization=org,
                number=f"{slug.upper()}-{month:%Y%m}-{number:02d}",
                customer=customer,
                issued_on=month.replace(day=rng.randint(1, last_day)),
                amount=Decimal(typical * shrink * rng.uniform(0.8, 1.2)).quantize(CENT),
            )
        )
    return invoices


def seed_invoices(organization: Organization, today: date | None = None) -> int:
    """Add invoices to each of the last 12 months that has none yet; return how many were added.

    Run again later, it fills in the months that have passed since, so the
    dashboard's window is never empty.
    """
    today = today or timezone.localdate()
    months = recent_months(PLAN_MONTHS[Organization.Plan.PRO], today)
    seeded = set(
        organization.invoices.filter(issued_on__gte=months[0])
        .annotate(month=TruncMonth("issued_on"))
        .values_list("month", flat=True)
    )
    invoices = [
        invoice
        for age, month in enumerate(reversed(months))
        if month not in seeded
        for invoice in _month_invoices(organization, month, age, today)
    ]
    Invoice.objects.bulk_create(invoices)
    return len(invoices)
