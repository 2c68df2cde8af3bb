"""How many mandates this machine seals per second: the file a signature online makes
(the evidence page, appended to the generated mandate, sealed with pyHanko).

    .venv/bin/python bench/seal_bench.py [--seconds 5] [--processes N]
        [--pkcs12 path --password secret]

One process first, then N (default: the CPU count) sealing side by side, as the web
workers would; each also prints the CPU time a signed PDF took, which other work on the
machine does not inflate. Beside each, in the same run, the reference: pyHanko alone
signing the same generated mandate as its documentation shows (`SimpleSigner.load_pkcs12`,
`sign_pdf`), with no evidence page. Without --pkcs12, the self-signed certificate under var/mandate-seal
(made on first use). No database: the signing request adds one short transaction.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(pkcs12: str, password: str) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            USE_TZ=True,
            TIME_ZONE="Europe/Paris",
            LANGUAGE_CODE="fr",
            USE_I18N=True,
            VAR_DIR=ROOT / "var",
            MANDATE_SEAL_PKCS12=pkcs12,
            MANDATE_SEAL_PASSWORD=password,
        )
        django.setup()


def _inputs():
    from django.utils import timezone

    from vigie.reform.pdf import MandateData, mandate_pdf
    from vigie.reform.seal import Evidence, sha256

    original = mandate_pdf(
        MandateData(
            firm_name="Cabinet Démonstration",
            client_name="CABINET DENTAIRE DE L'OASIS",
            siren="845236561",
            siret="84523656100013",
            representative="Jeanne Martin",
            representative_email="jeanne@oasis.fr",
            starts_on=date(2026, 10, 1),
            reference="0f2a9c1e-5b1d-4c84-9a53-3f1c2b7d9e10",
        )
    )
    now = timezone.now()
    evidence = Evidence(
        reference="0f2a9c1e-5b1d-4c84-9a53-3f1c2b7d9e10",
        client_name="CABINET DENTAIRE DE L'OASIS",
        siren="845236561",
        firm_name="Cabinet Démonstration",
        signer_name="Jeanne Martin",
        signer_email="jeanne@oasis.fr",
        original_sha256=sha256(original),
        opened_at=now - timedelta(minutes=4),
        code_sent_at=now - timedelta(minutes=3),
        code_verified_at=now - timedelta(minutes=2),
        code_tries=1,
        signed_at=now,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36",
        consent="J'ai lu le mandat et j'accepte de le signer électroniquement.",
    )
    return original, evidence


def _seal_once(original, evidence) -> bytes:
    """What vigie.reform.signing.mandate_sign_online does to the file."""
    from vigie.reform.seal import evidence_pdf, sealer, with_evidence

    seal = sealer()
    return seal.seal(
        with_evidence(original, evidence_pdf(evidence, certificate=seal.subject)),
        reason="Mandat signé en ligne par Jeanne Martin",
        name="Jeanne Martin",
    )


def _bare_signer():
    """The reference: pyHanko's signer loaded as its documentation shows."""
    from pyhanko.sign import signers

    from vigie.reform.seal import sealer

    seal = sealer()  # the same certificate (the demo's is made on first use)
    pkcs12 = settings_pkcs12_path()
    password = os.environ.get("MANDATE_SEAL_PASSWORD", "").encode() or None
    return seal, signers.SimpleSigner.load_pkcs12(pkcs12, passphrase=password)


def settings_pkcs12_path() -> str:
    from django.conf import settings

    from vigie.reform.pades import SELF_SIGNED_DIR

    return settings.MANDATE_SEAL_PKCS12 or str(
        Path(settings.VAR_DIR) / SELF_SIGNED_DIR / "seal.p12"
    )


def _bare_once(original, signer) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name="Signature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(original))
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()


def _worker(args) -> tuple[int, float]:
    pkcs12, password, seconds, start_at, bare = args
    _setup(pkcs12, password)
    original, evidence = _inputs()
    if bare:
        _seal, signer = _bare_signer()

        def once():
            return _bare_once(original, signer)
    else:

        def once():
            return _seal_once(original, evidence)

    once()  # the certificate loaded, the code warm
    while time.time() < start_at:
        time.sleep(0.001)
    count, end, cpu = 0, start_at + seconds, time.process_time()
    while time.time() < end:
        once()
        count += 1
    return count, time.process_time() - cpu


def _run(
    processes: int, pkcs12: str, password: str, seconds: float, bare: bool = False
) -> tuple[float, float]:
    """Signed PDFs per second (wall clock), and CPU milliseconds per signed PDF."""
    start_at = time.time() + 3  # every process loaded before the clock starts
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_worker, [(pkcs12, password, seconds, start_at, bare)] * processes)
    count = sum(c for c, _ in results)
    return count / seconds, 1000 * sum(cpu for _, cpu in results) / max(count, 1)


def _check(pkcs12: str, password: str) -> None:
    """One sealed file, checked by pyHanko's own validation against the certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from vigie.reform.seal import sealer

    _setup(pkcs12, password)
    sealed = _seal_once(*_inputs())
    [signature] = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[sealer().trust_root]))
    assert status.bottom_line, status.pretty_print_details()
    print(f"certificate: {sealer().subject}; a sealed mandate: {len(sealed):,} bytes, valid")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pkcs12", default=os.environ.get("MANDATE_SEAL_PKCS12", ""))
    parser.add_argument("--password", default=os.environ.get("MANDATE_SEAL_PASSWORD", ""))
    args = parser.parse_args()
    _check(args.pkcs12, args.password)
    print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    cpu = 0.0
    for processes in sorted({1, args.processes}):
        ours, cpu = _run(processes, args.pkcs12, args.password, args.seconds)
        ref, ref_cpu = _run(processes, args.pkcs12, args.password, args.seconds, bare=True)
        print(
            f"{processes} process{'es' if processes > 1 else ''}: {ours:.1f} sealed mandates/s"
            f" ({cpu:.1f} ms of CPU each); reference, pyHanko alone on the mandate:"
            f" {ref:.1f}/s ({ref_cpu:.1f} ms)"
        )
    # Other processes on the machine take their share of the wall clock, not of the CPU
    # time counted: what the CPUs would do alone.
    print(f"CPU-bound ceiling: {1000 * (os.cpu_count() or 1) / cpu:.0f} sealed mandates/s")


if __name__ == "__main__":
    main()
