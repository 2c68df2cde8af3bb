"""The reference peer: Django's admin changelist for the same clients, written the
obvious way. Registered on AdminSites of the bench only (never in vigie/urls.py)."""

from __future__ import annotations

from django.contrib import admin

from vigie.clients.models import Client


class PortfolioAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "legal_form",
        "code",
        "contact",
        "achat",
        "vente",
        "caisse",
        "mandate_status",
        "pa_status",
        "sensitised",
        "notes",
    ]
    search_fields = [
        "name",
        "code",
        "siret",
        "contacts__first_name",
        "contacts__last_name",
        "contacts__email",
    ]
    list_filter = ["mandate_status"]
    ordering = ["sort_name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(firm=request.firm, archived_at__isnull=True)

    @admin.display(description="CONTACT")
    def contact(self, obj):
        users = " ".join(u.initials for u in obj.assigned.all())
        contacts = list(obj.contacts.all()[:2])
        label = contacts[0].full_name if len(contacts) == 1 else f"{obj.contacts.count()} contacts"
        return f"{users} {label}"

    def _slot(self, obj, slot):
        return ", ".join(
            e.label for e in obj.equipment.filter(slot=slot).select_related("solution")
        )

    @admin.display(description="ACHAT")
    def achat(self, obj):
        return self._slot(obj, "achat")

    @admin.display(description="VENTE")
    def vente(self, obj):
        return self._slot(obj, "vente")

    @admin.display(description="CAISSE")
    def caisse(self, obj):
        return self._slot(obj, "caisse")


class PortfolioAdmin100(PortfolioAdmin):
    list_per_page = 100


class PortfolioAdmin10(PortfolioAdmin):
    list_per_page = 10


site10 = admin.AdminSite(name="bench10")
site10.register(Client, PortfolioAdmin10)
site100 = admin.AdminSite(name="bench100")
site100.register(Client, PortfolioAdmin100)
