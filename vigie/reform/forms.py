from __future__ import annotations

from django import forms

from vigie.clients.models import PaStatus


class PaForm(forms.Form):
    pa_status = forms.ChoiceField(label="Inscription PA", choices=PaStatus.choices)
    pa_name = forms.CharField(label="Plateforme agréée", max_length=100, required=False)
    pa_registered_at = forms.DateField(
        label="Inscrit depuis le",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide."},
    )


class TemplateForm(forms.Form):
    subject = forms.CharField(label="Objet", max_length=200, required=False)
    body = forms.CharField(
        label="Message", widget=forms.Textarea(attrs={"rows": 16}), required=False
    )
