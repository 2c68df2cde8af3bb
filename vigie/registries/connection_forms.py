"""The firm's connection to its platform's directory (« Annuaire (plateforme agréée) »)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from vigie.lib.netguard import PrivateAddress, refuse_private
from vigie.registries.models import DirectoryConnection

KEPT_HELP = "•••• enregistré. Laissez vide pour garder le secret enregistré."


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValidationError("Seules les adresses http:// ou https:// sont acceptées.")
    if parts.username or parts.password:
        raise ValidationError("Pas d'identifiant dans l'adresse : il va dans les champs dédiés.")
    if parts.query or parts.fragment:
        raise ValidationError("Saisissez l'adresse sans paramètres (?…) ni ancre (#…).")
    try:
        refuse_private(value)
    except PrivateAddress as exc:
        raise ValidationError(str(exc)) from None
    return value.rstrip("/")


class DirectoryConnectionForm(forms.Form):
    """The Directory Service's URL and the OAuth2 client credentials. The secret is never
    rendered back: left empty, the saved one is kept, unless the token URL or the client
    id changed (the saved secret is only ever sent where it was meant to go)."""

    base_url = forms.URLField(
        label="URL du service d'annuaire",
        max_length=300,
        assume_scheme="https",
        help_text="L'adresse de base du Directory Service (AFNOR XP Z12-013) de votre "
        "plateforme, par exemple https://api.ma-plateforme.fr/afnor-directory.",
        error_messages={
            "required": "Saisissez l'URL du service d'annuaire.",
            "invalid": "Saisissez une adresse web valide (https://…).",
        },
    )
    token_url = forms.URLField(
        label="URL du jeton (OAuth2)",
        max_length=300,
        assume_scheme="https",
        help_text="L'adresse où Vigie obtient ses jetons d'accès (client credentials).",
        error_messages={
            "required": "Saisissez l'URL du jeton.",
            "invalid": "Saisissez une adresse web valide (https://…).",
        },
    )
    client_id = forms.CharField(
        label="Identifiant client",
        max_length=200,
        error_messages={"required": "Saisissez l'identifiant client remis par la plateforme."},
    )
    secret = forms.CharField(
        label="Secret client",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, connection: DirectoryConnection | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection is not None:
            self.fields["secret"].help_text = KEPT_HELP
            self.initial = {
                "base_url": connection.base_url,
                "token_url": connection.token_url,
                "client_id": connection.client_id,
                **self.initial,
            }

    def clean_base_url(self) -> str:
        return _http_url(self.cleaned_data["base_url"])

    def clean_token_url(self) -> str:
        return _http_url(self.cleaned_data["token_url"])

    def clean(self):
        data = super().clean()
        if data.get("secret") or self.errors:
            return data
        saved = self.connection
        if saved is None:
            self.add_error("secret", "Saisissez le secret client remis par la plateforme.")
        elif (data.get("token_url"), data.get("client_id")) != (saved.token_url, saved.client_id):
            self.add_error(
                "secret",
                "Saisissez de nouveau le secret : l'URL du jeton ou l'identifiant client a changé.",
            )
        return data
