"""Issuing item codes: a small run inside the request, a large one by the worker with progress on the run."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from ledger import errors
from ledger.code_signing import signed_uri
from ledger.codes import issue_item_codes, start_run
from ledger.identifiers import DigitalLink
from ledger.models import Batch, CodeRun, Organisation, Product, Role, utcnow
from ledger.recorder import Signer
from trace_api.codes.schemas import CodeOut
from trace_api.web.queries import item_codes

# Runs up to this size are issued inside the request; larger ones by the worker, with progress on the run.
SYNC_LIMIT: Final = 10_000


def start_codes(session: Session, signer: Signer, org: Organisation, batch: Batch, count: int) -> CodeRun:
    """A code run for the batch, issued at once when it is small (``done``), else left ``queued`` for the worker."""
    run = start_run(session, org, batch.id, count)
    if count <= SYNC_LIMIT:
        issue_item_codes(session, signer, org, batch.id, count, run=run.id)
        run.issued, run.status, run.finished_at = count, "done", utcnow()
    return run


def visible_run(session: Session, org: Organisation, run_id: int) -> CodeRun:
    run = session.get(CodeRun, run_id)
    if run is None or (run.org_id != org.id and not org.has_role(Role.REGULATOR)):
        raise errors.NotFound(f"no code run {run_id} visible to this organisation", run_id=run_id)
    return run


def code_links(
    session: Session, batch: Batch, public_url: str, *, run: int | None, offset: int, limit: int
) -> list[CodeOut]:
    """A page of the batch's item codes with their Digital Links, signed as printed in the QR."""
    product = session.get(Product, batch.product_id)
    assert product is not None
    out = []
    for code in item_codes(session, batch.id, run=run, offset=offset, limit=limit):
        assert code.serial is not None
        link = DigitalLink(gtin=product.gtin, lot=batch.lot, serial=code.serial)
        signed = signed_uri(link, public_url, code.signature) if code.signature else None
        out.append(
            CodeOut(serial=code.serial, digital_link=link.uri(public_url), signed_link=signed, status=code.status.value)
        )
    return out
