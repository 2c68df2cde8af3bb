from __future__ import annotations

from django import forms


class NameForm(forms.Form):
    name = forms.CharField(label="Nom", max_length=100)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Donnez un nom, par exemple l'outil qui l'utilisera.")
        return name
