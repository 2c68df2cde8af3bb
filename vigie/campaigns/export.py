"""A campaign's clients with their stage, as CSV or XLSX: one line per target, the stage
columns read by the funnel's own conditions (vigie.campaigns.funnel.flags)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterator

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from vigie.campaigns import funnel
from vigie.campaigns.models import Campaign, Target
from vigie.clients.models import ClientAssignment
from vigie.clients.portfolio.export import TEXT_FORMAT, neutralise

FIRST = [
    "CODE CLIENT",
    "ENTREPRISE",
    "DESTINATAIRE",
    "COLLABORATEURS",
    "ENVOI",
    "ENVOYÉ LE",
    "MOTIF",
]
LAST = ["ÉTAPE", "RELANCES", "DERNIÈRE RELANCE"]
ARCHIVED = "Client archivé"


def _stages(campaign: Campaign) -> list[funnel.Stage]:
    """The funnel's measured stages after « envoyés »: one column each."""
    keys = {funnel.CIBLES.key, funnel.ENVOYES.key}
    return [s for s, on in funnel.FUNNELS[campaign.kind] if on and s.key not in keys]


def headers(campaign: Campaign) -> list[str]:
    return FIRST + [s.label.upper() for s in _stages(campaign)] + LAST


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def rows(campaign: Campaign) -> Iterator[list[str]]:
    reached = funnel.flags(campaign)
    targets = list(
        Target.objects.filter(firm_id=campaign.firm_id, campaign=campaign)
        .select_related("client", "email")
        .order_by("client__sort_name", "client__code", "id")
    )
    people = defaultdict(list)
    for assignment in ClientAssignment.objects.filter(
        firm_id=campaign.firm_id, client_id__in=[t.client_id for t in targets]
    ).select_related("user"):
        people[assignment.client_id].append(assignment.user.full_name or assignment.user.email)
    stages = _stages(campaign)
    order = [s for s, on in funnel.FUNNELS[campaign.kind] if on]
    for target in targets:
        flags = reached.get(target.client_id)
        if flags is None:
            cells, stage = [""] * len(stages), ARCHIVED
        else:
            cells = ["Oui" if flags[s.key] else "Non" for s in stages]
            if target.sent_at is None:
                stage = target.get_status_display()
            else:
                stage = next(s.label for s in reversed(order) if flags[s.key])
        yield [
            neutralise(value)
            for value in (
                target.client.code,
                target.client.name,
                target.email.to if target.email else "",
                ", ".join(people[target.client_id]),
                target.get_status_display(),
                _when(target.sent_at),
                target.reason,
                *cells,
                stage,
                str(target.reminders),
                _when(target.reminded_at),
            )
        ]


def _filename(campaign: Campaign, ext: str) -> str:
    return f"campagne-{campaign.kind}-{timezone.localdate(campaign.created_at):%Y-%m-%d}.{ext}"


def csv_response(campaign: Campaign) -> HttpResponse:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 with its BOM
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers(campaign))
    writer.writerows(rows(campaign))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(campaign, "csv"))
    return response


def xlsx_response(campaign: Campaign) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Campagne")
    sheet.append(headers(campaign))
    for cells in rows(campaign):
        code = WriteOnlyCell(sheet, value=cells[0])
        code.number_format = TEXT_FORMAT  # a code's leading zeros kept
        sheet.append([code, *cells[1:]])
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=_filename(campaign, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
