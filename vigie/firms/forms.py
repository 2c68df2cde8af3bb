from __future__ import annotations

from django import forms

from vigie.accounts.models import User
from vigie.firms.models import Firm, Role


class CollaboratorForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    role = forms.ChoiceField(label="Rôle", choices=Role.choices, initial=Role.COLLABORATOR)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Cette adresse e-mail a déjà un compte Vigie.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)


class InvitationSettingsForm(forms.ModelForm):
    class Meta:
        model = Firm
        fields = ["invitation_expiry_days", "first_reminder_days", "second_reminder_days"]
        labels = {
            "invitation_expiry_days": "Une invitation expire après (jours)",
            "first_reminder_days": "Première relance du client après (jours)",
            "second_reminder_days": "Seconde relance du client après (jours)",
        }

    def clean(self):
        data = super().clean()
        first, second, expiry = (
            data.get("first_reminder_days"),
            data.get("second_reminder_days"),
            data.get("invitation_expiry_days"),
        )
        for name in ("first_reminder_days", "second_reminder_days", "invitation_expiry_days"):
            if data.get(name) is not None and data[name] < 1:
                self.add_error(name, "Indiquez au moins 1 jour.")
        if first and second and second <= first:
            self.add_error(
                "second_reminder_days", "La seconde relance doit venir après la première."
            )
        if second and expiry and expiry <= second:
            self.add_error(
                "invitation_expiry_days", "L'expiration doit venir après la seconde relance."
            )
        return data
