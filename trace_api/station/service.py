"""What the station's endpoints compute: the published key set, the verdicts on decoded symbols, and the alerts
for those that are not genuine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.alert_signals import forged_signal
from ledger.alerts import raise_alert
from ledger.models import Batch, Organisation, Role, utcnow
from ledger.recorder import Signer
from scanner.decode import decode_bytes
from scanner.reading import verdict
from scanner.verify import OfflineVerifier
from trace_api.station.schemas import DecodedCode, DecodedUpload, ReadCode


@dataclass(frozen=True, slots=True)
class KeySetDocument:
    body: bytes
    etag: str


def issuers(session: Session) -> OfflineVerifier:
    """Every organisation whose key signs codes: producers, and anyone who has registered a batch.

    Keys are not rotated yet, so nothing is revoked; when they are, a replaced address goes to ``revoked``.
    """
    registrants = set(session.scalars(select(Batch.registrant_org_id).distinct()))
    orgs = session.scalars(select(Organisation).order_by(Organisation.id))
    return OfflineVerifier(
        {org.chain_address: org.name for org in orgs if org.id in registrants or org.has_role(Role.PRODUCER)}
    )


def key_set_document(session: Session) -> KeySetDocument:
    body = issuers(session).to_json().encode()
    return KeySetDocument(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def decode_upload(session: Session, data: bytes) -> DecodedUpload:
    """Every QR code and DataMatrix symbol in an image, each with its offline verdict."""
    verifier = issuers(session)
    codes = []
    for symbol in decode_bytes(data):
        check = verdict(verifier, symbol.text)
        link = check.link
        read = None
        if link is not None:
            read = ReadCode(kind=str(link.kind), gtin=link.gtin, lot=link.lot, serial=link.serial, sscc=link.sscc)
        codes.append(
            DecodedCode(
                text=symbol.text,
                symbol=symbol.symbol,
                page=symbol.page,
                x=symbol.x,
                y=symbol.y,
                verdict=str(check.reason),
                genuine=check.genuine,
                detail=check.detail,
                issuer=check.issuer_name,
                code=read,
            )
        )
    return DecodedUpload(codes=codes)


def report_not_genuine(session: Session, signer: Signer, org: Organisation, decoded: DecodedUpload) -> None:
    """A forged-code alert for each code of this network's form the offline check found not genuine."""
    now = utcnow()
    for code in decoded.codes:
        if code.genuine or code.code is None:
            continue
        for signal in forged_signal(session, org, code.text, code.verdict, location_id=None, at=now):
            raise_alert(session, signer, signal)
