"""Exports prepared by the worker: their list (« Mes exports »), an export's page
(« Export en préparation », polled by htmx) and its download. All only for the
collaborator who asked, in their firm: anyone else gets the 404 of an export that does
not exist."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from vigie.clients.portfolio.export import CONTENT_TYPES
from vigie.clients.portfolio.query import Lookups
from vigie.exports.models import PortfolioExport, State
from vigie.exports.services import described, export_filename
from vigie.lib.decorators import firm_required


def _export(request, public_id) -> PortfolioExport:
    return get_object_or_404(
        PortfolioExport.objects.for_firm(request.firm), public_id=public_id, user=request.user
    )


# The list shows the newest exports (rows are forgotten 30 days after their file).
LIST_SIZE = 50


def _urls(job: PortfolioExport) -> dict:
    query = f"?{job.query}" if job.query else ""
    return {
        "portfolio_url": reverse("home") + query,
        "retry_url": reverse("portfolio_export", args=[job.fmt]) + query,
    }


@require_GET
@firm_required
def export_list(request):
    jobs = PortfolioExport.objects.for_firm(request.firm).filter(user=request.user)
    lookups = Lookups.for_firm(request.firm)
    context = {
        "exports": [
            {"export": job, "contents": described(job, lookups), **_urls(job)}
            for job in jobs[:LIST_SIZE]
        ],
        "inline_max": settings.EXPORT_INLINE_MAX_ROWS,
        "keep_hours": settings.EXPORT_KEEP_HOURS,
    }
    return render(request, "exports/list.html", context)


@require_GET
@firm_required
def export_detail(request, public_id):
    job = _export(request, public_id)
    context = {
        "export": job,
        "filename": export_filename(job),
        "keep_hours": settings.EXPORT_KEEP_HOURS,
        **_urls(job),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "exports/detail.html#status", context)
    context["contents"] = described(job, Lookups.for_firm(request.firm))
    return render(request, "exports/detail.html", context)


@require_GET
@firm_required
def export_download(request, public_id):
    job = _export(request, public_id)
    if job.state != State.READY:
        return redirect("export_detail", public_id=job.public_id)
    try:
        handle = default_storage.open(job.file.name, "rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export_filename(job),
        content_type=CONTENT_TYPES[job.fmt],
    )
