"""Organisations, their locations and their webhooks, as the API changes them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.keys import KeyVault
from ledger.models import Location, Organisation, Role
from ledger.registry import create_organisation
from ledger.settings import Settings
from recall import notify
from recall.endpoints import AddressPolicy


def register_organisation(
    session: Session,
    settings: Settings,
    *,
    name: str,
    name_en: str | None,
    uscc: str,
    roles: list[Role],
    gln: str | None,
    webhook_url: str | None,
) -> tuple[Organisation, str, str | None]:
    """A new organisation with its API token, and its webhook secret when a webhook URL is given."""
    vault = KeyVault(settings.secret_key)
    org, token = create_organisation(session, vault, name=name, name_en=name_en, uscc=uscc, roles=roles, gln=gln)
    secret = set_webhook(session, settings, org, webhook_url) if webhook_url is not None else None
    return org, token, secret


def set_webhook(session: Session, settings: Settings, org: Organisation, url: str | None) -> str | None:
    """Set, rotate or remove an organisation's webhook; a new secret each time (none once removed)."""
    policy = AddressPolicy.from_settings(settings)
    return notify.set_webhook(session, KeyVault(settings.secret_key), org, url, policy=policy)


def locations_of(session: Session, org: Organisation) -> list[Location]:
    return list(session.scalars(select(Location).where(Location.org_id == org.id).order_by(Location.id)))
