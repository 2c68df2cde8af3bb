"""The PDF seal (PAdES baseline B, pyHanko) of the mandates signed online.

The seal's certificate comes from settings (MANDATE_SEAL_PKCS12, MANDATE_SEAL_PASSWORD).
Without one, a self-signed certificate is generated once under var/ for the demo and
the tests: the signature is sound and any change to the file breaks it, but a reader's
PDF software does not know who made it.

Speed: pyHanko's own PKCS#12 signer parses the private key again for every signature
(60 ms for an RSA key, most of a seal); `_KeptKeySigner` parses it once per process.
With the signature's size reserved up front (no trial signature), a seal takes about
15 ms.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import io
import logging
import os
import secrets
import threading
from functools import cached_property
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash

log = logging.getLogger(__name__)

FIELD_NAME = "SceauVigie"
SELF_SIGNED_DIR = "mandate-seal"
SELF_SIGNED_NAME = "Vigie - sceau des mandats (auto-signé)"


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, with the private key parsed once (see the module's
    docstring); other mechanisms than RSA PKCS#1 v1.5 and ECDSA go through pyHanko."""

    def __init__(self, *, private_key, **kwargs):
        super().__init__(**kwargs)
        self.private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(data, ec.ECDSA(digest))
        return super().sign_raw(data, digest_algorithm)


class Sealer:
    """One certificate's seal. Built once per process (`sealer()`)."""

    def __init__(self, pkcs12_data: bytes, password: str):
        try:
            key, cert, _others = pkcs12.load_key_and_certificates(
                pkcs12_data, password.encode() if password else None
            )
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"MANDATE_SEAL_PKCS12 cannot be read (wrong password, or not PKCS#12): {exc}"
            ) from None
        if key is None or cert is None:
            raise ImproperlyConfigured("MANDATE_SEAL_PKCS12 holds no private key or certificate.")
        loaded = signers.SimpleSigner.load_pkcs12_data(
            pkcs12_data, other_certs=None, passphrase=password.encode() if password else None
        )
        self.signer = _KeptKeySigner(
            private_key=key,
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
        )
        self.certificate = cert
        chain = [loaded.signing_cert, *loaded.cert_registry]
        # Room for the CMS container: the chain, the signed attributes and the signature.
        self.bytes_reserved = 8192 + sum(len(c.dump()) for c in chain)

    @cached_property
    def subject(self) -> str:
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.certificate.subject.rfc4514_string()

    @property
    def trust_root(self) -> asn1_x509.Certificate:
        """The certificate, as pyHanko's validation takes a trust root."""
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    def seal(self, pdf: bytes, *, reason: str, name: str = "") -> bytes:
        """`pdf` with an invisible PAdES signature over the whole file."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            reason=reason,
            name=name or None,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = _outside_any_event_loop(
            lambda: signers.sign_pdf(
                writer, meta, signer=self.signer, bytes_reserved=self.bytes_reserved
            )
        )
        return out.getvalue()


def _outside_any_event_loop(call):
    """pyHanko's synchronous API runs an event loop of its own (`asyncio.run`), which a
    thread already running one refuses (an ASGI server's, a browser driver's in tests):
    there, the call runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def _self_signed(folder: Path) -> bytes:
    """The demo's PKCS#12 (no password) under `folder`, made the first time it is asked
    for; processes racing to make it keep the first one written."""
    path = folder / "seal.p12"
    if path.exists():
        return path.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, SELF_SIGNED_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vigie"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"vigie-mandate-seal", key, cert, None, serialization.NoEncryption()
    )
    temporary = folder / f".seal-{secrets.token_hex(8)}.p12"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    try:
        os.link(temporary, path)  # fails if another process got there first
    except FileExistsError:
        return path.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    # The certificate alone, for whoever checks a sealed mandate (a trust root).
    (folder / "seal.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    log.warning(
        "Mandates are sealed with a self-signed certificate (%s): set MANDATE_SEAL_PKCS12", path
    )
    return data


_sealers: dict[tuple[str, str], Sealer] = {}
_sealers_lock = threading.Lock()


def sealer() -> Sealer:
    """The configured certificate's Sealer (the demo's self-signed one when unset), one
    per process and certificate: loading a PKCS#12 takes longer than a seal."""
    configured = getattr(settings, "MANDATE_SEAL_PKCS12", "")
    password = getattr(settings, "MANDATE_SEAL_PASSWORD", "")
    key = (configured or str(Path(settings.VAR_DIR) / SELF_SIGNED_DIR), password)
    with _sealers_lock:
        found = _sealers.get(key)
        if found is None:
            if configured:
                try:
                    data = Path(configured).read_bytes()
                except OSError as exc:
                    raise ImproperlyConfigured(
                        f"MANDATE_SEAL_PKCS12 cannot be read: {exc}"
                    ) from None
            else:
                data = _self_signed(Path(key[0]))
            found = _sealers[key] = Sealer(data, password)
    return found
