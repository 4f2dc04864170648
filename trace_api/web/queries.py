"""Ledger reads that several features share: the batches an organisation may see, a batch's item codes a page
at a time, organisations' names. They sit here, below the features, until the ledger offers them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Batch, Code, CodeKind, CodeRun, Holding, Organisation, Product, Role


def visible_batches(org: Organisation) -> ColumnElement[bool]:
    """The SQL condition for batches an organisation may see: its own, any it holds or held, or all (regulator)."""
    if org.has_role(Role.REGULATOR):
        return Batch.id.is_not(None)
    held = exists().where(Holding.batch_id == Batch.id, Holding.org_id == org.id)
    return or_(Batch.registrant_org_id == org.id, held)


def get_visible_batch(session: Session, org: Organisation, batch_id: int) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.id == batch_id, visible_batches(org)))
    if batch is None:
        # The same answer whether it does not exist or belongs to someone else: ids reveal nothing.
        raise errors.UnknownBatch(f"no batch {batch_id} visible to this organisation", batch_id=batch_id)
    return batch


def item_codes(session: Session, batch_id: int, *, run: int | None = None, offset: int = 0, limit: int) -> list[Code]:
    """A batch's item codes in issue order, optionally one code run's only, a page at a time."""
    query = select(Code).where(Code.batch_id == batch_id, Code.kind == CodeKind.ITEM)
    if run is not None:
        query = query.where(Code.issue_run == run)
    return list(session.scalars(query.order_by(Code.id).offset(offset).limit(limit)))


def products_of(session: Session, org: Organisation) -> list[Product]:
    """The products an organisation owns, by name: its product list and the choices of its batch form."""
    return list(session.scalars(select(Product).where(Product.owner_org_id == org.id).order_by(Product.name)))


def code_runs(session: Session, batch_id: int) -> list[CodeRun]:
    """A batch's code runs, newest first: what its page lists, with each run's progress and label sheets."""
    query = select(CodeRun).where(CodeRun.batch_id == batch_id).order_by(CodeRun.id.desc())
    return list(session.scalars(query))


def org_names(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return dict(rows.all())
