from __future__ import annotations

from django import forms

from vigie.clients.models import Client
from vigie.lib.validators import normalize_ape, normalize_siret

DETAIL_FIELDS = ["name", "code", "legal_form", "regime", "siret", "ape_code", "activity"]


class ClientForm(forms.ModelForm):
    """A client's details, validated and normalised. Needs the firm for code uniqueness."""

    class Meta:
        model = Client
        fields = [*DETAIL_FIELDS, "notes"]
        labels = {
            "name": "Raison sociale",
            "code": "Code client",
            "legal_form": "Forme juridique",
            "regime": "Régime",
            "siret": "Siret",
            "ape_code": "Code APE",
            "activity": "Activité",
            "notes": "Notes",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.firm = firm
        self.fields["siret"].max_length = None  # spaces are allowed on input
        self.fields["siret"].widget.attrs.pop("maxlength", None)
        self.fields["siret"].help_text = "14 chiffres, espaces acceptés."
        self.fields["ape_code"].max_length = None
        self.fields["ape_code"].widget.attrs.pop("maxlength", None)
        self.fields["ape_code"].help_text = "Code NAF, par exemple 62.01Z."

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("La raison sociale est obligatoire.")
        return name

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        taken = Client.objects.for_firm(self.firm).filter(code=code)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                "Ce code client est déjà utilisé par un autre client du cabinet."
            )
        return code

    def clean_siret(self) -> str:
        return normalize_siret(self.cleaned_data["siret"])

    def clean_ape_code(self) -> str:
        return normalize_ape(self.cleaned_data["ape_code"])

    def validate_unique(self) -> None:
        # Uniqueness of the code is checked per firm in clean_code; the firm is not a
        # form field, so Django's own check would be incomplete.
        pass
