"""The mandate document (French), generated from the client's and the firm's data.

fpdf2's core fonts keep the file small and need no font file on disk; Windows-1252
covers French (accents, « », œ, €, typographic apostrophes and dashes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from django.utils import formats
from fpdf import FPDF

PURPOSE = (
    "Dans le cadre de la réforme de la facturation électronique (article 91 de la loi "
    "n° 2023-1322 du 29 décembre 2023 de finances pour 2024), le Mandant donne mandat au "
    "Mandataire pour accomplir en son nom et pour son compte les démarches suivantes : "
    "choix et inscription auprès d'une plateforme agréée (PA) et mise à jour de l'annuaire "
    "central ; réception et mise à disposition des factures électroniques reçues ; émission "
    "et transmission des factures électroniques ; transmission des données de transaction "
    "(e-reporting) et des statuts de traitement des factures à l'administration fiscale."
)
CONSENT = (
    "Le Mandant déclare être dûment habilité à engager l'entreprise et consent à ce que le "
    "Mandataire accède, dans la limite du présent mandat, aux factures et données de "
    "facturation de l'entreprise. Le Mandant reste responsable du contenu de ses factures "
    "et de ses obligations fiscales. Le présent mandat peut être révoqué à tout moment, par "
    "écrit, par l'une ou l'autre des parties ; la révocation prend effet à sa réception."
)


@dataclass(frozen=True)
class MandateData:
    firm_name: str
    client_name: str
    siren: str
    siret: str
    representative: str
    representative_email: str
    starts_on: date
    reference: str


def _siren_display(siren: str) -> str:
    return " ".join(siren[i : i + 3] for i in range(0, len(siren), 3))


def mandate_pdf(data: MandateData) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(f"Mandat de facturation électronique - {data.client_name}")
    pdf.set_author(data.firm_name)
    pdf.set_creator("Vigie")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(width, 8, "Mandat de facturation électronique", align="C")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(width, 5, f"Référence : {data.reference}", align="C")
    pdf.ln(6)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(width, 6, text)
        pdf.ln(1)

    def paragraph(text: str) -> None:
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 5, text)
        pdf.ln(3)

    heading("Entre les soussignés")
    paragraph(
        f"L'entreprise {data.client_name}, SIREN {_siren_display(data.siren)} "
        f"(SIRET {data.siret}), représentée par {data.representative} "
        f"({data.representative_email}), ci-après « le Mandant »,"
    )
    paragraph(f"et le cabinet {data.firm_name}, ci-après « le Mandataire ».")

    heading("Objet du mandat")
    paragraph(PURPOSE)

    heading("Date d'effet et durée")
    start = formats.date_format(data.starts_on, "j F Y")
    paragraph(
        f"Le présent mandat prend effet le {start}. Il est conclu pour une durée "
        "indéterminée, jusqu'à sa révocation."
    )

    heading("Consentement")
    paragraph(CONSENT)

    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(width, 5, "Fait le ____________________ à ____________________")
    pdf.ln(8)
    half = width / 2
    y = pdf.get_y()
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(half - 5, 5, f"Pour le Mandant\n{data.representative}")
    pdf.set_xy(pdf.l_margin + half, y)
    pdf.multi_cell(half - 5, 5, f"Pour le Mandataire\n{data.firm_name}")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(width, 5, "Signature précédée de la mention « Bon pour mandat »")
    return bytes(pdf.output())


def is_pdf(data: bytes) -> bool:
    """True when `data` starts like a PDF and a PDF parser reads at least one page."""
    if not data.startswith(b"%PDF-"):
        return False
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        return len(reader.pages) > 0
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        return False
