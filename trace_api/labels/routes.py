"""Printable labels: one code as PNG or SVG, and A4 PDF sheets of a batch's codes."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response

from ledger import errors
from trace_api.labels import service
from trace_api.labels.render import label_png, label_svg
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.files import attachment
from trace_api.web.queries import get_visible_batch
from trace_api.web.schemas import Limit, Offset, QueryId, RowId

router = APIRouter(prefix="/api/v1", tags=["labels"])

MAX_SHEET_LABELS: Final = 2_400  # 100 A4 pages; larger runs are printed in several sheets (offset/limit)


@router.get(
    "/batches/{batch_id}/codes/{serial}/label.{fmt}",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}, **error_responses(errors.UnknownCode)},
    response_class=Response,
)
def code_label(
    batch_id: RowId, serial: str, fmt: str, org: CurrentOrg, session: SessionDep, state: StateDep, lang: str = "zh-CN"
) -> Response:
    """One code's label: the signed Digital Link as a QR code, with GTIN, lot, serial and expiry printed."""
    check_format(fmt)
    batch = get_visible_batch(session, org, batch_id)
    return label_file(service.code_label(session, batch, serial, state.settings.public_url, lang), fmt)


def check_format(fmt: str) -> None:
    if fmt not in ("png", "svg"):
        raise errors.UnsupportedMediaType(f"labels come as .png or .svg, not .{fmt}", format=fmt)


def label_file(label: service.Label, fmt: str) -> Response:
    if fmt == "png":
        return Response(label_png(label.uri, label.caption), media_type="image/png")
    return Response(label_svg(label.uri, label.caption), media_type="image/svg+xml")


def check_range(offset: int, limit: int) -> None:
    if not 1 <= limit <= MAX_SHEET_LABELS or offset < 0:
        raise errors.InvalidInput(f"limit must be 1..{MAX_SHEET_LABELS} and offset ≥ 0", limit=limit, offset=offset)


@router.get(
    "/batches/{batch_id}/labels.pdf",
    responses={200: {"content": {"application/pdf": {}}}, **error_responses(errors.UnknownBatch)},
    response_class=Response,
)
def label_sheet(
    batch_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    run: QueryId | None = None,
    offset: Offset = 0,
    limit: Limit = 240,
    lang: str = "zh-CN",
) -> Response:
    """A4 label sheets (3 × 8 a page) for a batch's codes, in issue order, optionally one code run only."""
    check_range(offset, limit)
    batch = get_visible_batch(session, org, batch_id)
    sheet = service.label_sheet(
        session, batch, state.settings.public_url, run=run, offset=offset, limit=limit, lang=lang
    )
    return attachment(sheet.pdf, "application/pdf", sheet.filename)
