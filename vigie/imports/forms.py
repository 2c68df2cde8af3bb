from __future__ import annotations

from django import forms

from vigie.imports.mapping import FIELDS, REQUIRED


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier CSV ou Excel (.xlsx)",
        help_text="20 Mo au plus. Une ligne par client, avec éventuellement un contact.",
        error_messages={
            "required": "Choisissez un fichier.",
            "empty": "Ce fichier est vide.",
        },
    )


class MappingForm(forms.Form):
    """One select per target field: which column of the file feeds it."""

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— Ne pas importer —")] + [
            (str(i), header or f"Colonne {i + 1}") for i, header in enumerate(headers)
        ]
        for field, label, _ in FIELDS:
            self.fields[field] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=field in REQUIRED,
                initial=str(initial_mapping[field]) if field in initial_mapping else "",
                error_messages={"required": f"Choisissez la colonne « {label} »."},
            )

    def mapping(self) -> dict[str, int]:
        return {field: int(value) for field, value in self.cleaned_data.items() if value != ""}

    def clean(self):
        cleaned = super().clean()
        used = [v for v in cleaned.values() if v]
        if len(used) != len(set(used)):
            raise forms.ValidationError("Une même colonne ne peut alimenter deux champs.")
        return cleaned
