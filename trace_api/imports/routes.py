"""Bulk registration over HTTP: download a flow's template, upload the filled sheet."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from importers.bulk import ImportLimits, import_batches
from importers.templates import template_csv, template_xlsx
from ledger import errors
from ledger.models import Category, Role
from trace_api.imports.schemas import ImportOut
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.web.errors import ErrorBody, error_responses
from trace_api.web.files import XLSX, attachment
from trace_api.web.idempotency import IdempotencyKey, run_once

router = APIRouter(prefix="/api/v1", tags=["imports"])

_TEMPLATE_ERRORS: dict[int | str, dict[str, object]] = {422: {"model": ErrorBody, "description": "unknown flow"}}


@router.get(
    "/imports/templates/{flow}.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **_TEMPLATE_ERRORS},
)
def xlsx_template(flow: Category) -> Response:
    """The flow's workbook: a batches sheet with bilingual headers (required ones starred) and a guide sheet."""
    return attachment(template_xlsx(flow), XLSX, f"lotline-{flow.value}-batches.xlsx")


@router.get(
    "/imports/templates/{flow}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **_TEMPLATE_ERRORS},
)
def csv_template(flow: Category) -> Response:
    """The flow's header row as UTF-8 CSV with a BOM (so Chinese Excel opens it as UTF-8)."""
    return attachment(template_csv(flow), "text/csv; charset=utf-8", f"lotline-{flow.value}-batches.csv")


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportOut,
    responses={
        200: {"model": ImportOut, "description": "nothing new: every row is already registered"},
        **error_responses(errors.RoleRequired, errors.PayloadTooLarge, errors.UnsupportedMediaType),
    },
)
def upload_import(
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
    response: Response,
    file: Annotated[UploadFile, File(description="a filled template: .xlsx, or .csv in UTF-8 or GBK")],
    skip_invalid: Annotated[bool, Query(description="register the valid rows and report the others")] = False,
    flow: Annotated[Category | None, Query(description="default: told by the headers")] = None,
) -> ImportOut:
    """Register every batch of a sheet, or none: a refusal (422) lists every problem with its row and column.

    Rows already registered with identical declarations are reported unchanged, so uploading the same file
    twice writes nothing the second time.
    """
    require_role(org, Role.PRODUCER)
    limits = ImportLimits(max_bytes=state.settings.max_upload_bytes)
    # A sync route runs in the thread pool, so reading the spooled upload and the long import block no event loop.
    content = file.file.read(limits.max_bytes + 1)
    request = {"sha256": hashlib.sha256(content).hexdigest(), "skip_invalid": skip_invalid, "flow": flow}

    def write() -> tuple[int, ImportOut]:
        report = import_batches(
            session, state.signer, org, content, flow=flow, skip_invalid=skip_invalid, limits=limits
        )
        return (201 if report.created else 200), ImportOut.model_validate(report.as_dict())

    response.status_code, imported = run_once(session, org, idempotency_key, request, ImportOut, write)
    return imported
