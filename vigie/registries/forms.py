from __future__ import annotations

from django import forms

from vigie.lib.validators import normalize_siret
from vigie.registries.models import Register


class SiretLookupForm(forms.Form):
    """« Remplir depuis le registre »: a SIRET whose check digit holds (python-stdnum);
    any other is never sent to the register."""

    siret = forms.CharField(
        label="Siret",
        max_length=40,
        help_text="14 chiffres, espaces acceptés.",
        error_messages={"required": "Saisissez le SIRET du client."},
    )

    def clean_siret(self) -> str:
        return normalize_siret(self.cleaned_data["siret"])


class FindingForm(forms.Form):
    """Which finding « Prendre la valeur du registre » or « Ignorer » acts on."""

    register = forms.ChoiceField(choices=Register.choices)
    code = forms.CharField(max_length=30)
