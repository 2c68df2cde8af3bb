from __future__ import annotations

from django import forms

from vigie.accounts.models import User
from vigie.firms.models import Role


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
