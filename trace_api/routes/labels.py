"""Printable labels: one code as PNG or SVG, and A4 PDF sheets of a batch's codes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from ledger import errors
from ledger.code_signing import signed_uri
from ledger.identifiers import DigitalLink, validate_serial
from ledger.models import Batch, Code, CodeKind, Product
from trace_api.batches import get_visible_batch
from trace_api.deps import CurrentOrg, SessionDep, StateDep
from trace_api.errors import error_responses
from trace_api.labels import LabelSpec, caption_lines, label_png, label_sheet_pdf, label_svg

router = APIRouter(prefix="/api/v1", tags=["labels"])

MAX_SHEET_LABELS = 2_400  # 100 A4 pages; larger runs are printed in several sheets (offset/limit)
LOCALES = ("zh-CN", "en")


def _signed_link(public_url: str, product: Product, batch: Batch, code: Code) -> str:
    assert code.serial is not None
    link = DigitalLink(gtin=product.gtin, lot=batch.lot, serial=code.serial)
    return signed_uri(link, public_url, code.signature) if code.signature else link.uri(public_url)


def _locale(lang: str) -> str:
    if lang not in LOCALES:
        raise errors.InvalidInput(f"labels are printed in zh-CN or en, not {lang!r}", lang=lang)
    return lang


@router.get(
    "/batches/{batch_id}/codes/{serial}/label.{fmt}",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}, **error_responses(errors.UnknownCode)},
    response_class=Response,
)
def code_label(
    batch_id: int, serial: str, fmt: str, org: CurrentOrg, session: SessionDep, state: StateDep, lang: str = "zh-CN"
) -> Response:
    """One code's label: the signed Digital Link as a QR code, with GTIN, lot, serial and expiry printed."""
    if fmt not in ("png", "svg"):
        raise errors.UnsupportedMediaType(f"labels come as .png or .svg, not .{fmt}", format=fmt)
    batch = get_visible_batch(session, org, batch_id)
    product = session.get(Product, batch.product_id)
    assert product is not None
    code = session.scalar(
        select(Code).where(
            Code.batch_id == batch.id, Code.serial == validate_serial(serial), Code.kind == CodeKind.ITEM
        )
    )
    if code is None:
        raise errors.UnknownCode(f"batch {batch_id} has no code {serial}", serial=serial)
    uri = _signed_link(state.settings.public_url, product, batch, code)
    lines = caption_lines(uri, expiry=batch.expiry_date, name=product.name, locale=_locale(lang))
    if fmt == "png":
        return Response(label_png(uri, lines), media_type="image/png")
    return Response(label_svg(uri, lines), media_type="image/svg+xml")


@router.get(
    "/batches/{batch_id}/labels.pdf",
    responses={200: {"content": {"application/pdf": {}}}, **error_responses(errors.UnknownBatch)},
    response_class=Response,
)
def label_sheet(
    batch_id: int,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    run: int | None = None,
    offset: int = 0,
    limit: int = 240,
    lang: str = "zh-CN",
) -> Response:
    """A4 label sheets (3 × 8 a page) for a batch's codes, in issue order, optionally one code run only."""
    if not 1 <= limit <= MAX_SHEET_LABELS or offset < 0:
        raise errors.InvalidInput(f"limit must be 1..{MAX_SHEET_LABELS} and offset ≥ 0", limit=limit, offset=offset)
    batch = get_visible_batch(session, org, batch_id)
    product = session.get(Product, batch.product_id)
    assert product is not None
    query = select(Code).where(Code.batch_id == batch.id, Code.kind == CodeKind.ITEM)
    if run is not None:
        query = query.where(Code.issue_run == run)
    codes = session.scalars(query.order_by(Code.id).offset(offset).limit(limit)).all()
    if not codes:
        raise errors.UnknownCode(f"batch {batch_id} has no codes in that range", batch_id=batch_id)
    specs = [
        LabelSpec(_signed_link(state.settings.public_url, product, batch, c), batch.expiry_date, product.name)
        for c in codes
    ]
    pdf = label_sheet_pdf(specs, title=f"{product.name} {product.gtin} / {batch.lot}", locale=_locale(lang))
    filename = f"labels-{product.gtin}-{batch.lot}-{offset + 1}-{offset + len(codes)}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
