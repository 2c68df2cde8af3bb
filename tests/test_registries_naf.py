"""The NAF rev. 2 labels the registers' APE codes are shown with: every subclass."""

from __future__ import annotations

import re

from vigie.registries.naf import _labels, naf_label


def test_every_subclass_of_naf_rev2_has_its_label():
    labels = _labels()
    assert len(labels) == 732
    assert all(re.fullmatch(r"\d\d\.\d\d[A-Z]", code) and label for code, label in labels.items())
    assert naf_label("01.11Z").startswith("Culture de céréales")
    assert naf_label("69.20Z") == "Activités comptables"
    assert naf_label("99.00Z") == "Activités des organisations et organismes extraterritoriaux"


def test_a_code_it_does_not_have_has_no_label():
    assert naf_label("47.24") == naf_label("00.00Z") == naf_label("") == ""
