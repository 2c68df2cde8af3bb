from __future__ import annotations

import csv
import re
from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from vigie.clients.portfolio.export import neutralise
from vigie.imports import registry, services
from vigie.imports.forms import MappingForm, UploadForm
from vigie.imports.models import ImportJob, Status
from vigie.imports.reader import MAX_UPLOAD_BYTES
from vigie.imports.tasks import prepare_import, registry_fill, run_import
from vigie.lib.decorators import admin_required

STALLED_AFTER = timedelta(minutes=2)


def _job(request, job_id) -> ImportJob:
    return get_object_or_404(ImportJob.objects.for_firm(request.firm), public_id=job_id)


@require_http_methods(["GET", "POST"])
@admin_required
def upload(request):
    form = UploadForm()
    status, error = 200, ""
    if request.method == "POST":
        # Refuse an oversized body before Django reads it into a temporary file.
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
            status, error = 413, services.TOO_BIG
        else:
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    job = services.import_create(
                        firm=request.firm, actor=request.user, upload=form.cleaned_data["file"]
                    )
                except services.ImportRefused as exc:
                    form.add_error("file", str(exc))
                else:
                    return redirect("import_detail", job_id=job.public_id)
            status = 422
    jobs = ImportJob.objects.for_firm(request.firm)[:10]
    context = {"form": form, "jobs": jobs, "error": error}
    return render(request, "imports/upload.html", context, status=status)


@require_GET
@admin_required
def detail(request, job_id):
    job = _job(request, job_id)
    if _ready_to_map(job):
        return _mapping_page(request, job)
    return render(request, "imports/detail.html", _progress_context(job))


def _ready_to_map(job: ImportJob) -> bool:
    """A draft whose first rows have been read (an XLSX's by the worker, after upload)."""
    return job.status == Status.DRAFT and bool(job.preview)


def _mapping_page(request, job, form=None, status=200, registry_error=""):
    headers, preview = job.preview[0], job.preview[1:]
    form = form or MappingForm(headers=headers, initial_mapping=job.mapping)
    context = {
        "job": job,
        "headers": headers,
        "preview": preview,
        "form": form,
        "review": registry.Review.of(job),
        "registry_error": registry_error,
    }
    return render(request, "imports/mapping.html", context, status=status)


@require_POST
@admin_required
def start(request, job_id):
    job = _job(request, job_id)
    if not _ready_to_map(job):
        return redirect("import_detail", job_id=job.public_id)
    form = MappingForm(request.POST, headers=job.preview[0], initial_mapping=job.mapping)
    if not form.is_valid():
        return _mapping_page(request, job, form=form, status=422)
    services.import_start(job=job, mapping=form.mapping())
    return redirect("import_detail", job_id=job.public_id)


@require_POST
@admin_required
def resume(request, job_id):
    job = _job(request, job_id)
    if job.status == Status.DRAFT and not job.preview:
        prepare_import.enqueue(job.pk)
    elif job.status in {Status.QUEUED, Status.RUNNING}:
        run_import.enqueue(job.pk)
    elif (fill := registry.fill_of(job)) is not None and not fill.is_finished:
        registry_fill.enqueue(fill.pk)  # « Compléter depuis le registre » had stopped
        return redirect(reverse("import_detail", args=[job.public_id]) + "#registre")
    return redirect("import_detail", job_id=job.public_id)


# --- « Compléter depuis le registre » ---------------------------------------------------


def _registry_part(request, job, error: str = "", part: str = "registry"):
    """The preview's register section, or its count of accepted rows (htmx), else back
    to the page, at the section."""
    if not request.htmx:
        return redirect(reverse("import_detail", args=[job.public_id]) + "#registre")
    context = {"job": job, "review": registry.Review.of(job), f"{part}_error": error}
    return render(request, f"imports/mapping.html#{part}", context)


@require_POST
@admin_required
def registry_fill_start(request, job_id):
    """Look up the preview's rows with the columns chosen on the page (posted with them)."""
    job = _job(request, job_id)
    if not _ready_to_map(job):
        return redirect("import_detail", job_id=job.public_id)
    form = MappingForm(request.POST, headers=job.preview[0], initial_mapping=job.mapping)
    if not form.is_valid():
        return _mapping_page(request, job, form=form, status=422)
    try:
        registry.fill_start(job=job, mapping=form.mapping())
    except registry.FillRefused as exc:
        return _mapping_page(request, job, form=form, status=422, registry_error=str(exc))
    return redirect(reverse("import_detail", args=[job.public_id]) + "#registre")


@require_GET
@admin_required
def registry_fill_progress(request, job_id):
    """The register section: what it polls while the register is being asked."""
    return _registry_part(request, _job(request, job_id))


@require_POST
@admin_required
def registry_fill_accept(request, job_id):
    """The rows whose register values the import takes (« Tout accepter »: all)."""
    job = _job(request, job_id)
    lines = {int(v) for v in request.POST.getlist("lignes") if v.isascii() and v.isdigit()}
    # A checkbox ticked asks for the count alone: the table, and the focus, stay as they are.
    part = "accepted" if request.POST.get("partie") == "compte" else "registry"
    try:
        registry.fill_accept(job=job, lines=None if request.POST.get("tout") else lines)
    except registry.FillRefused as exc:
        return _registry_part(request, job, str(exc), part)
    return _registry_part(request, job, part=part)


def _progress_context(job: ImportJob) -> dict:
    reading = job.status == Status.DRAFT
    # A worker reading a file writes nothing until it is done: allow it its budget.
    limit = STALLED_AFTER + (services.read_budget() if reading else timedelta(0))
    stalled = (
        job.status in {Status.DRAFT, Status.QUEUED, Status.RUNNING}
        and timezone.now() - job.updated_at > limit
    )
    errors = job.row_errors.all()[:200] if job.is_finished else []
    return {"job": job, "stalled": stalled, "errors": errors}


@require_GET
@admin_required
def progress(request, job_id):
    job = _job(request, job_id)
    if _ready_to_map(job):  # the worker has read the file: on to the mapping page
        url = reverse("import_detail", args=[job.public_id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, "imports/detail.html#progress", _progress_context(job))


def _report_stem(original_name: str) -> str:
    """The uploaded name without its extension, in letters, digits, '-' and '_' only: whoever
    sent the file chose it, and it goes into a response header."""
    stem = original_name.rsplit(".", 1)[0]
    return re.sub(r"[^\w-]+", "_", stem).strip("_")[:100] or "import"


def write_report(job: ImportJob, out) -> None:
    """The rejected rows and the counts, as CSV for Excel (also `vigie import --report`)."""
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Ligne", "Code client", "Motif du rejet"])
    for error in job.row_errors.all().iterator():
        writer.writerow([error.line, neutralise(error.code), neutralise(error.message)])
    writer.writerow([])
    writer.writerow(["Créés", job.created_count])
    writer.writerow(["Mis à jour", job.updated_count])
    writer.writerow(["Inchangés", job.unchanged_count])
    writer.writerow(["Rejetés", job.rejected_count])


@require_GET
@admin_required
def report(request, job_id):
    job = _job(request, job_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"rapport-{_report_stem(job.original_name)}.csv"
    )
    write_report(job, response)
    return response
