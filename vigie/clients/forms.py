from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from vigie.clients.models import Access, Client, Contact
from vigie.lib.validators import (
    normalize_ape,
    normalize_email,
    normalize_phone,
    normalize_siret,
)

DETAIL_FIELDS = [
    "name",
    "code",
    "legal_form",
    "regime",
    "siret",
    "ape_code",
    "activity",
    "address",
    "postal_code",
    "city",
    "invoices_per_month",
]
POSTAL_CODE_INVALID = "Le code postal doit comporter 5 chiffres, par exemple 75011."
_POSTAL_CODE = re.compile(r"[0-9]{5}")


def normalize_postal_code(value) -> str:
    """A French postal code: 5 digits, spaces allowed on input (« 75 011 »); "" stays ""."""
    compact = "".join(str(value or "").split())
    if compact and not _POSTAL_CODE.fullmatch(compact):
        raise ValidationError(POSTAL_CODE_INVALID, code="invalid")
    return compact


class ClientForm(forms.ModelForm):
    """A client's details, validated and normalised. Needs the firm for code uniqueness."""

    class Meta:
        model = Client
        fields = [*DETAIL_FIELDS, "notes"]
        labels = {"siret": "Siret"}  # the others are the model's verbose names, capitalised
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.firm = firm
        # Spaces are allowed on input: length is checked after normalisation.
        for name in ("siret", "ape_code", "postal_code"):
            self.fields[name].max_length = None
            self.fields[name].validators = []
            self.fields[name].widget.attrs.pop("maxlength", None)
        self.fields["siret"].help_text = "14 chiffres, espaces acceptés."
        self.fields["ape_code"].help_text = "Code NAF, par exemple 62.01Z."
        self.fields["address"].help_text = "Celle du siège : numéro, voie, complément."
        self.fields["postal_code"].widget.attrs["inputmode"] = "numeric"

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

    def clean_address(self) -> str:
        return " ".join(self.cleaned_data["address"].split())

    def clean_postal_code(self) -> str:
        return normalize_postal_code(self.cleaned_data["postal_code"])

    def clean_city(self) -> str:
        return " ".join(self.cleaned_data["city"].split())


class ClientCreateForm(ClientForm):
    """« Nouveau client »: the details and who follows the client (the creator unless
    changed), so that the creator's « Mes dossiers » lists it."""

    collaborator = forms.ModelChoiceField(
        label="Collaborateur",
        queryset=get_user_model().objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="Aucun",
        help_text="Le client apparaît dans ses « Mes dossiers ».",
    )

    def __init__(self, *args, firm, creator, **kwargs):
        super().__init__(*args, firm=firm, **kwargs)
        field = self.fields["collaborator"]
        field.queryset = (
            get_user_model()
            .objects.filter(membership__firm=firm, is_active=True)
            .order_by("last_name", "first_name", "email")
        )
        field.initial = creator.public_id
        field.label_from_instance = str


# --- Client page: details, notes, contacts ------------------------------------------


class ClientDetailsForm(ClientForm):
    """The « Détails » panel of the client page: ClientForm without the notes."""

    class Meta(ClientForm.Meta):
        fields = DETAIL_FIELDS


class NotesForm(forms.Form):
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))


DUPLICATE_CONTACT_EMAIL = (
    "Cette adresse e-mail est déjà utilisée par un autre contact de ce client."
)


class ContactForm(forms.Form):
    """« Ajouter un contact »: names, a unique email per client, a valid phone (E.164)."""

    last_name = forms.CharField(label="Nom", max_length=100)
    first_name = forms.CharField(label="Prénom", max_length=100)
    email = forms.CharField(label="E-mail", max_length=254)
    phone = forms.CharField(label="Téléphone", max_length=40)
    access = forms.ChoiceField(label="Accès", choices=Access.choices, initial=Access.ADMIN)
    is_principal = forms.BooleanField(label="Contact principal", required=False)

    def __init__(self, *args, client: Client, contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.contact = contact
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "off"})
        self.fields["phone"].widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
        self.fields["phone"].help_text = "Par exemple 07 07 07 07 07 ou +33 7 07 07 07 07."

    def clean_last_name(self) -> str:
        return _required_text(self.cleaned_data["last_name"])

    def clean_first_name(self) -> str:
        return _required_text(self.cleaned_data["first_name"])

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        taken = Contact.objects.filter(client=self.client, email__iexact=email)
        if self.contact is not None:
            taken = taken.exclude(pk=self.contact.pk)
        if taken.exists():
            raise forms.ValidationError(DUPLICATE_CONTACT_EMAIL)
        return email

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


def _required_text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise forms.ValidationError("Ce champ est obligatoire.")
    return value
