from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from vigie.lib.validators import (
    format_siret,
    make_siret,
    normalize_ape,
    normalize_email,
    normalize_phone,
    normalize_siret,
)

GUIDE_SIRETS = ["84523656100013", "80826415400010"]


@pytest.mark.parametrize("siret", GUIDE_SIRETS)
def test_it_accepts_the_guides_sirets(siret):
    assert normalize_siret(siret) == siret


def test_it_accepts_spaces_and_formats():
    assert normalize_siret(" 845 236 561 00013 ") == "84523656100013"
    assert format_siret("84523656100013") == "845 236 561 00013"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("84523656100014", "clé de contrôle"),
        ("8452365610001", "14 chiffres"),
        ("845236561000130", "14 chiffres"),
        ("8452365610001A", "que des chiffres"),
        ("ABCDEFGHIJKLMN", "que des chiffres"),
    ],
)
def test_it_refuses_bad_sirets_in_french(value, message):
    with pytest.raises(ValidationError) as exc:
        normalize_siret(value)
    assert message in exc.value.messages[0]


@given(st.integers(10_000_000, 99_999_999), st.integers(0, 9999))
def test_every_made_siret_is_valid(siren_body, nic):
    siret = make_siret(f"{siren_body:08d}", f"{nic:04d}")
    assert len(siret) == 14
    if not siret.startswith("356000000"):
        assert normalize_siret(siret) == siret


@given(st.sampled_from(GUIDE_SIRETS), st.integers(0, 13), st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(siret, position, delta):
    digits = list(siret)
    digits[position] = str((int(digits[position]) + delta) % 10)
    with pytest.raises(ValidationError):
        normalize_siret("".join(digits))


@pytest.mark.parametrize(
    "raw", ["0707070707", "07 07 07 07 07", "+33 7 07 07 07 07", "0033707070707"]
)
def test_it_stores_french_phones_as_e164(raw):
    assert normalize_phone(raw) == "+33707070707"


@pytest.mark.parametrize("raw", ["12345", "abc", "07070707"])
def test_it_refuses_bad_phones(raw):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw)
    assert exc.value.messages == ["Ce numéro de téléphone n'est pas valide."]


@pytest.mark.parametrize(
    ("raw", "stored"), [("6201Z", "62.01Z"), ("62.01z", "62.01Z"), ("00.00Z", "00.00Z")]
)
def test_it_normalises_ape_codes(raw, stored):
    assert normalize_ape(raw) == stored


@pytest.mark.parametrize("raw", ["62-01Z", "620Z", "6201", "ABCDE"])
def test_it_refuses_bad_ape_codes(raw):
    with pytest.raises(ValidationError):
        normalize_ape(raw)


def test_it_lowercases_emails_and_refuses_bad_ones():
    assert normalize_email(" Client@Entreprise.COM ") == "client@entreprise.com"
    with pytest.raises(ValidationError) as exc:
        normalize_email("pas-une-adresse")
    assert exc.value.messages == ["Saisissez une adresse e-mail valide."]
