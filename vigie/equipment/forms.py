from __future__ import annotations

from django import forms

from vigie.equipment.services import SCOPE_LABELS
from vigie.lib.validators import normalize_siret


class DeclareForm(forms.Form):
    solution = forms.SlugField()
    scope = forms.ChoiceField(choices=list(SCOPE_LABELS.items()))


class SiretForm(forms.Form):
    siret = forms.CharField(label="Siret", max_length=40)

    def clean_siret(self) -> str:
        siret = normalize_siret(self.cleaned_data["siret"])
        if not siret:
            raise forms.ValidationError("Le SIRET est obligatoire pour inviter la TPE")
        return siret
