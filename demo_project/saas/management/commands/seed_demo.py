"""``manage.py seed_demo``: the demo's organizations, users and invoices (safe to run again)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from demo_project.saas.models import Organization, Profile
from demo_project.saas.sample_invoices import seed_invoices

PASSWORD = "upsolve-demo"
ORGANIZATIONS = {
    "acme": ("Acme Corp", Organization.Plan.PRO),
    "globex": ("Globex", Organization.Plan.FREE),
}
#: username, first name, last name, organization slug, job title
MEMBERS = [
    ("alice", "Alice", "Anders", "acme", "Head of Finance"),
    ("bob", "Bob", "Baker", "acme", "Sales Analyst"),
    ("carol", "Carol", "Chen", "globex", "Founder"),
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
        for username, first, last, slug, title in MEMBERS:
            user, created = users.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{slug}.test",
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            Profile.objects.get_or_create(
                user=user, defaults={"organization": organizations[slug], "job_title": title}
            )
        if not users.objects.filter(username=ADMIN).exists():
            users.objects.create_superuser(ADMIN, f"{ADMIN}@example.test", PASSWORD)
        self.stdout.write(self._logins(organizations))

    def _logins(self, organizations: dict[str, Organization]) -> str:
        """The demo logins with each one's organization and its current plan."""
        lines = [f"Demo logins (password for all: {PASSWORD}):"]
        for username, _first, _last, slug, _title in MEMBERS:
            organization = organizations[slug]
            plan = organization.get_plan_display()
            lines.append(f"  {username:<6} {organization.name} ({plan} plan)")
        lines.append(f"  {ADMIN:<6} {ADMIN_ROLE}")
        return "\n".join(lines)
