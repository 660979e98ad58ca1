from django.contrib import admin

from .models import Invoice, Organization, Profile


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "job_title"]
    list_select_related = ["user", "organization"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "organization", "customer", "issued_on", "amount"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    date_hierarchy = "issued_on"
    search_fields = ["number", "customer"]
