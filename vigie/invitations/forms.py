from __future__ import annotations

from django import forms

from vigie.invitations.models import BillingMode, InvitationTemplate, Plan
from vigie.mail.services import SUBJECT_NEWLINE


class ShineForm(forms.Form):
    """« Activer » Shine from the equipment dialog: the invitation's mode and plan."""

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


class ComposeForm(forms.Form):
    subject = forms.CharField(label="Objet", max_length=200, strip=False)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 14}), strip=False)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = InvitationTemplate
        fields = ["subject", "body"]
        labels = {"subject": "Objet", "body": "Message"}
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        if "\r" in subject or "\n" in subject:
            raise forms.ValidationError(SUBJECT_NEWLINE)
        return subject.strip()


class TestAccountForm(forms.Form):
    email = forms.CharField(label="Adresse e-mail du compte de test", max_length=254)
