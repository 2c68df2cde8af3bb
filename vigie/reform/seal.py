"""The mandate signed online, as a file: the generated PDF, an evidence page appended,
sealed with a PDF signature (vigie.reform.pades).

The whole file (evidence page, merge, seal) takes about 30 ms: it is made in the
signing request (bench/seal_bench.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from django.utils import formats, timezone
from fpdf import FPDF

from vigie.lib.text import counted


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- The evidence page -------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What the evidence page says: who signed what, when, from where, how identified."""

    reference: str
    client_name: str
    siren: str
    firm_name: str
    signer_name: str
    signer_email: str
    original_sha256: str
    opened_at: dt.datetime | None
    code_sent_at: dt.datetime | None
    code_verified_at: dt.datetime
    code_tries: int
    signed_at: dt.datetime
    ip: str
    user_agent: str
    consent: str

    def as_json(self) -> dict:
        """The same facts for the mandate's row (its `evidence`), times in ISO 8601."""
        values = {}
        for key, value in self.__dict__.items():
            values[key] = value.isoformat() if isinstance(value, dt.datetime) else value
        return values


def _paris(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    local = timezone.localtime(value)  # TIME_ZONE is Europe/Paris
    return f"{formats.date_format(local, 'j F Y')} à {local:%H:%M:%S} (heure de Paris)"


def _printable(text: str) -> str:
    """What the PDF's core fonts can draw (Windows-1252); anything else becomes « ? »."""
    return str(text).encode("cp1252", "replace").decode("cp1252")


def _wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """`text` cut into lines of at most `width` in the current font: at spaces, and
    inside a word longer than a line (a digest, a user agent). fpdf2's `multi_cell`
    measures the whole line again for each character: 19 ms of a 30 ms seal for this
    page, against 2 ms here."""
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        size = pdf.get_string_width(word)
        while size > width:  # longer than a line: cut it by characters
            if current:
                lines.append(" ".join(current))
                current, used = [], 0.0
            cut, taken = 0, 0.0
            for char in word:
                step = pdf.get_string_width(char)
                if taken + step > width:
                    break
                cut, taken = cut + 1, taken + step
            lines.append(word[: max(cut, 1)])
            word = word[max(cut, 1) :]
            size = pdf.get_string_width(word)
        if not word:
            continue
        if current and used + space + size > width:
            lines.append(" ".join(current))
            current, used = [], 0.0
        used += size + (space if current else 0.0)
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines or ["—"]


def evidence_pdf(evidence: Evidence, *, certificate: str) -> bytes:
    """The evidence page, alone (French)."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def text(value: str, style: str = "", size: float = 9.5, height: float = 5, align="L"):
        pdf.set_font("Helvetica", style, size)
        for row in _wrapped(pdf, _printable(value), width):
            pdf.cell(width, height, row, align=align, new_x="LMARGIN", new_y="NEXT")

    text("Dossier de preuve de la signature électronique", "B", 15, 8, align="C")
    text(f"Mandat - référence {evidence.reference}", size=9, align="C")
    pdf.ln(6)

    def line(label: str, value: str) -> None:
        text(label, "B")
        text(value or "—")
        pdf.ln(1.5)

    line("Document signé", "Mandat de facturation électronique (les pages qui précèdent)")
    line("Empreinte SHA-256 du document original envoyé", evidence.original_sha256)
    line("Mandant", f"{evidence.client_name}, SIREN {evidence.siren}")
    line("Mandataire", evidence.firm_name)
    line("Signataire", f"{evidence.signer_name} <{evidence.signer_email}>")
    line("Lien de signature ouvert le", _paris(evidence.opened_at))
    line(
        "Vérification de l'identité",
        f"code à usage unique (6 chiffres, valable 10 minutes) envoyé par e-mail à "
        f"{evidence.signer_email} le {_paris(evidence.code_sent_at)} ; "
        f"vérifié le {_paris(evidence.code_verified_at)}, en {counted(evidence.code_tries, 'essai')}",
    )
    line("Consentement", evidence.consent)
    line("Signé le", _paris(evidence.signed_at))
    line("Adresse IP", evidence.ip)
    line("Navigateur (user agent)", evidence.user_agent)
    pdf.ln(3)
    text(
        "Ce fichier est scellé par une signature électronique PDF (certificat : "
        f"{certificate}). Toute modification ultérieure du fichier invalide le sceau ; "
        "l'empreinte ci-dessus permet de vérifier que le document signé est celui "
        "envoyé par e-mail.",
        "I",
        9,
    )
    return bytes(pdf.output())


def with_evidence(original: bytes, evidence_page: bytes) -> bytes:
    """The original PDF's pages followed by the evidence page, as one PDF."""
    # Imported here as vigie.reform.pdf does: only the processes that seal pay for it.
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(original))
    writer.append(PdfReader(io.BytesIO(evidence_page)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- The seal ----------------------------------------------------------------------------


def sealer():
    """The configured certificate's `pades.Sealer`, made once per process."""
    # pyHanko takes 0.7 s to import: only the processes that seal pay for it, not every
    # web worker, task worker and command that loads the URLconf.
    from vigie.reform import pades

    return pades.sealer()
