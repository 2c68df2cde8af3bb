from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from vigie.lib.storable import FIELD_MESSAGE, is_storable


class StrictIn(Schema):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and
    text PostgreSQL cannot store (a NUL, a lone surrogate): a 422 naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value):
        if isinstance(value, str) and not is_storable(value):
            raise ValueError(FIELD_MESSAGE)
        return value


class ClientIn(StrictIn):
    """Fields left out are not changed (a new client takes the defaults)."""

    name: str | None = Field(None, description="Raison sociale (obligatoire à la création)")
    legal_form: str | None = Field(None, description="Forme juridique : SARL, SAS, EI, AUCUNE…")
    siret: str | None = Field(None, description="14 chiffres, espaces acceptés")
    ape_code: str | None = Field(None, description="Code NAF : 62.01Z ou 6201Z")
    regime: str | None = Field(None, description="reel_normal, reel_simplifie, micro, franchise")
    activity: str | None = None
    address: str | None = Field(None, description="Adresse du siège : numéro, voie, complément")
    postal_code: str | None = Field(None, description="Code postal : 5 chiffres")
    city: str | None = Field(None, description="Ville")
    docs_to_file: int | None = Field(None, ge=0, le=2_000_000_000)
    invoices_per_month: int | None = Field(
        None, ge=0, le=1_000_000, description="Factures émises par mois (estimation des pénalités)"
    )


class ContactRowIn(StrictIn):
    last_name: str
    first_name: str = ""
    email: str
    phone: str = ""


class BulkClientIn(ClientIn):
    code: str
    contact: ContactRowIn | None = None


class BulkIn(StrictIn):
    clients: list[BulkClientIn]


class ClientOut(Schema):
    public_id: UUID
    code: str
    name: str
    legal_form: str
    siret: str
    ape_code: str
    regime: str
    activity: str
    address: str
    postal_code: str
    city: str
    docs_to_file: int
    invoices_per_month: int | None
    collect_email: str
    shine_status: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class ClientPage(Schema):
    items: list[ClientOut]
    next_cursor: str | None


class UpsertOut(Schema):
    result: Literal["created", "updated", "unchanged", "archived"]
    client: ClientOut


class BulkRowOut(Schema):
    index: int
    code: str
    result: Literal["created", "updated", "unchanged", "rejected"]
    errors: dict[str, list[str]] | None = None


class BulkOut(Schema):
    counts: dict[str, int]
    results: list[BulkRowOut]


class ContactOut(Schema):
    public_id: UUID
    last_name: str
    first_name: str
    email: str
    phone: str
    access: str
    is_principal: bool


class ContactIn(StrictIn):
    last_name: str
    first_name: str
    email: str
    phone: str
    access: Literal["admin", "utilisateur"] = "utilisateur"
    is_principal: bool = False


class ContactPatch(StrictIn):
    last_name: str | None = None
    first_name: str | None = None
    email: str | None = None
    phone: str | None = None
    access: Literal["admin", "utilisateur"] | None = None
    is_principal: bool | None = None


class EquipmentOut(Schema):
    slot: str
    solution: str
    name: str
    plan: str
    created_at: datetime


class EquipmentIn(StrictIn):
    slot: Literal["achat", "vente", "caisse"]
    solution: str = Field(description="Slug du catalogue, par exemple « axonaut »")


class EquipmentResult(Schema):
    result: Literal["created", "unchanged"]
    equipment: EquipmentOut


class InvitationOut(Schema):
    public_id: UUID
    email: str
    plan: str
    billing_mode: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    activated_at: datetime | None


class ReformOut(Schema):
    sensitised: bool
    sensitised_at: datetime | None
    mandate_status: str
    mandate_sent_at: datetime | None
    mandate_signed_at: datetime | None
    pa_status: str
    pa_name: str
    pa_registered_at: date | None


class ReformIn(StrictIn):
    sensitised: bool | None = None
    mandate_status: Literal["", "envoye", "signe", "revoque", "expire"] | None = None
    pa_status: Literal["absent", "invite", "inscrit"] | None = None
    pa_name: str | None = Field(None, max_length=100)
    pa_registered_at: date | None = None
