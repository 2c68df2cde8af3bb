"""French identifiers and contact details: validation and normalisation.

Each `normalize_*` returns the stored form or raises ValidationError with a French
message meant to be shown next to the field.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.fr import siret as stdnum_siret

SIRET_REQUIRED_FOR_SHINE = "Le SIRET est obligatoire pour inviter la TPE"


def normalize_siret(value: str) -> str:
    """Digits only, 14 long, valid check digit. Empty stays empty."""
    raw = (value or "").strip()
    if not raw:
        return ""
    compact = stdnum_siret.compact(raw)
    if not compact.isdigit():
        raise ValidationError("Le SIRET ne doit contenir que des chiffres.", code="siret_format")
    if len(compact) != 14:
        raise ValidationError("Le SIRET doit contenir 14 chiffres.", code="siret_length")
    try:
        stdnum_siret.validate(compact)
    except InvalidChecksum:
        raise ValidationError(
            "Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas.",
            code="siret_checksum",
        ) from None
    except (InvalidFormat, InvalidLength):
        raise ValidationError("Ce SIRET n'est pas valide.", code="siret_invalid") from None
    return compact


def is_valid_siret(value: str) -> bool:
    try:
        return bool(normalize_siret(value))
    except ValidationError:
        return False


def format_siret(value: str) -> str:
    """`84523656100013` → `845 236 561 00013`."""
    if len(value) != 14:
        return value
    return f"{value[0:3]} {value[3:6]} {value[6:9]} {value[9:]}"


def make_siret(siren_body: str, nic_body: str) -> str:
    """A valid SIRET from 8 SIREN digits and 4 NIC digits (demo data, tests)."""
    siren = siren_body + luhn.calc_check_digit(siren_body)
    partial = siren + nic_body
    return partial + luhn.calc_check_digit(partial)


_APE_RE = re.compile(r"^(\d{2})\.?(\d{2})([A-Za-z])$")


def normalize_ape(value: str) -> str:
    """NAF rev. 2 code, stored as `62.01Z`. Accepts `6201Z`, `62.01z`."""
    raw = (value or "").strip().replace(" ", "")
    if not raw:
        return ""
    match = _APE_RE.match(raw)
    if not match:
        raise ValidationError(
            "Le code APE doit être un code NAF comme 62.01Z ou 6201Z.", code="ape_format"
        )
    return f"{match[1]}.{match[2]}{match[3].upper()}"


def normalize_phone(value: str) -> str:
    """Stored as E.164 (`+33707070707`). French numbers without prefix are accepted."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        raise ValidationError("Ce numéro de téléphone n'est pas valide.", code="phone") from None
    # "Possible" (right length for the country), not "valid": the guide's own example
    # 07 07 07 07 07 lies in a range that is not allocated yet, and accountants type
    # such placeholder numbers.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise ValidationError("Ce numéro de téléphone n'est pas valide.", code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """E.164 → national display for French numbers (`07 07 07 07 07`)."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased; addresses compare case-insensitively here."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        validate_email(raw)
    except ValidationError:
        raise ValidationError("Saisissez une adresse e-mail valide.", code="email") from None
    return raw.lower()
