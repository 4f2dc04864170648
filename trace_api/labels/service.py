"""Which label to print: one code's signed link and caption, or a sheet of a batch's codes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.code_signing import signed_uri
from ledger.identifiers import DigitalLink, validate_serial
from ledger.models import Batch, Code, CodeKind, Product
from trace_api.labels.render import LabelSpec, caption_lines, label_sheet_pdf
from trace_api.web.i18n import LANGUAGES
from trace_api.web.queries import item_codes


@dataclass(frozen=True)
class Label:
    """One code's label: the link its QR carries and the caption printed with it."""

    uri: str
    caption: list[str]


@dataclass(frozen=True)
class Sheet:
    pdf: bytes
    filename: str


def locale(lang: str) -> str:
    if lang not in LANGUAGES:
        raise errors.InvalidInput(f"labels are printed in zh-CN or en, not {lang!r}", lang=lang)
    return lang


def code_label(session: Session, batch: Batch, serial: str, public_url: str, lang: str) -> Label:
    product = _product(session, batch)
    code = session.scalar(
        select(Code).where(
            Code.batch_id == batch.id, Code.serial == validate_serial(serial), Code.kind == CodeKind.ITEM
        )
    )
    if code is None:
        raise errors.UnknownCode(f"batch {batch.id} has no code {serial}", serial=serial)
    uri = _signed_link(public_url, product, batch, code)
    return Label(uri, caption_lines(uri, expiry=batch.expiry_date, name=product.name, locale=locale(lang)))


def label_sheet(
    session: Session, batch: Batch, public_url: str, *, run: int | None, offset: int, limit: int, lang: str
) -> Sheet:
    """A4 sheets for a page of the batch's codes in issue order, optionally one code run's only."""
    product = _product(session, batch)
    codes = item_codes(session, batch.id, run=run, offset=offset, limit=limit)
    if not codes:
        raise errors.UnknownCode(f"batch {batch.id} has no codes in that range", batch_id=batch.id)
    specs = [LabelSpec(_signed_link(public_url, product, batch, c), batch.expiry_date, product.name) for c in codes]
    pdf = label_sheet_pdf(specs, title=f"{product.name} {product.gtin} / {batch.lot}", locale=locale(lang))
    return Sheet(pdf, f"labels-{product.gtin}-{batch.lot}-{offset + 1}-{offset + len(codes)}.pdf")


def code_count(session: Session, batch: Batch, run: int | None) -> int:
    """How many item codes a batch has (one code run's only, when ``run`` is given): what its sheets print."""
    query = select(func.count()).select_from(Code).where(Code.batch_id == batch.id, Code.kind == CodeKind.ITEM)
    if run is not None:
        query = query.where(Code.issue_run == run)
    return session.scalar(query) or 0


def _product(session: Session, batch: Batch) -> Product:
    product = session.get(Product, batch.product_id)
    assert product is not None
    return product


def _signed_link(public_url: str, product: Product, batch: Batch, code: Code) -> str:
    assert code.serial is not None
    link = DigitalLink(gtin=product.gtin, lot=batch.lot, serial=code.serial)
    return signed_uri(link, public_url, code.signature) if code.signature else link.uri(public_url)
