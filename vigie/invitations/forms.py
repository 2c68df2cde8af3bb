from __future__ import annotations

from django import forms

from vigie.invitations.models import InvitationTemplate
from vigie.mail.services import SUBJECT_NEWLINE


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
