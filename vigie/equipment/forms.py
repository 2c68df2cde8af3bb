from __future__ import annotations

from django import forms

from vigie.equipment.services import SCOPE_LABELS
from vigie.invitations.models import BillingMode, Plan
from vigie.lib.validators import normalize_siret


class DeclareForm(forms.Form):
    solution = forms.SlugField()
    scope = forms.ChoiceField(choices=list(SCOPE_LABELS.items()))


class ShineForm(forms.Form):
    billing_mode = forms.ChoiceField(
        label="Mode de facturation",
        choices=BillingMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez un mode de facturation."},
    )
    plan = forms.ChoiceField(
        label="Plan",
        choices=Plan.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez un plan."},
    )


class SiretForm(forms.Form):
    siret = forms.CharField(label="Siret", max_length=40)

    def clean_siret(self) -> str:
        siret = normalize_siret(self.cleaned_data["siret"])
        if not siret:
            raise forms.ValidationError("Le SIRET est obligatoire pour inviter la TPE")
        return siret
