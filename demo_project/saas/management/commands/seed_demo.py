"""``manage.py seed_demo``: the demo's organizations, users and invoices (safe to run again)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from demo_project.saas.models import Membership, Organization
from demo_project.saas.sample_invoices import seed_invoices

PASSWORD = "upsolve-demo"
ORGANIZATIONS = {
    "acme": ("Acme Corp", Organization.Plan.PRO),
    "globex": ("Globex", Organization.Plan.FREE),
}
#: username, first name, last name, and (organization slug, job title) of each membership,
#: the first one shown until the user switches.
MEMBERS = [
    ("alice", "Alice", "Anders", [("acme", "Head of Finance")]),
    ("bob", "Bob", "Baker", [("acme", "Sales Analyst")]),
    ("carol", "Carol", "Chen", [("globex", "Founder")]),
    ("dana", "Dana", "Diaz", [("acme", "Fractional CFO"), ("globex", "Fractional CFO")]),
]
ADMIN = "admin"
ADMIN_ROLE = "site admin without an organization: /admin/, no analytics"


class Command(BaseCommand):
    help = "Create the missing demo organizations, users and invoices, then list the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        organizations = {
            slug: Organization.objects.get_or_create(
                slug=slug, defaults={"name": name, "plan": plan}
            )[0]
            for slug, (name, plan) in ORGANIZATIONS.items()
        }
        for organization in organizations.values():
            seed_invoices(organization)
        for username, first, last, memberships in MEMBERS:
            user, created = users.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{memberships[0][0]}.test",
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            for slug, title in memberships:
                Membership.objects.get_or_create(
                    user=user, organization=organizations[slug], defaults={"job_title": title}
                )
        if not users.objects.filter(username=ADMIN).exists():
            users.objects.create_superuser(ADMIN, f"{ADMIN}@example.test", PASSWORD)
        self.stdout.write(self._logins(organizations))

    def _logins(self, organizations: dict[str, Organization]) -> str:
        """The demo logins with each one's organizations and their current plans."""
        lines = [f"Demo logins (password for all: {PASSWORD}):"]
        for username, _first, _last, memberships in MEMBERS:
            shown = [organizations[slug] for slug, _title in memberships]
            names = " and ".join(f"{o.name} ({o.get_plan_display()} plan)" for o in shown)
            switch = ": switch in the navbar" if len(shown) > 1 else ""
            lines.append(f"  {username:<6} {names}{switch}")
        lines.append(f"  {ADMIN:<6} {ADMIN_ROLE}")
        return "\n".join(lines)
