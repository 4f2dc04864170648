"""The station's JSON endpoints: the issuers' key set (public, cacheable) and decoding an uploaded photo."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, File, Header, UploadFile
from fastapi.responses import Response

from ledger import errors
from trace_api.station import service
from trace_api.station.schemas import DecodedUpload
from trace_api.web.deps import CurrentOrg, ReadSessionDep, SessionDep, StateDep
from trace_api.web.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["station"])

MAX_UPLOAD: Final = 8 * 1024 * 1024
KEY_SET_MEDIA_TYPE: Final = "application/json"


@router.get(
    "/issuers",
    responses={200: {"content": {KEY_SET_MEDIA_TYPE: {}}}, 304: {"description": "the cached copy is current"}},
    response_class=Response,
)
def key_set(session: ReadSessionDep, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The issuers' addresses and revoked ones (format ``lotline-issuers/v1``): what a phone or scanner checks
    code signatures against offline. Send the ETag back as If-None-Match: an unchanged set is a 304."""
    document = service.key_set_document(session)
    # no-cache: stored, but revalidated every time; a new issuer must reach the stations at their next sync.
    headers = {"ETag": document.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and document.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type=KEY_SET_MEDIA_TYPE, headers=headers)


@router.post(
    "/decode",
    response_model=DecodedUpload,
    responses=error_responses(errors.PayloadTooLarge, errors.UnsupportedMediaType),
)
def decode(
    file: Annotated[UploadFile, File(description="a photo or scan of labels: PNG, JPEG, WebP, TIFF or BMP")],
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
) -> DecodedUpload:
    """Read every QR code and DataMatrix symbol in an image (a phone photo, a scanned label sheet) and check each
    one offline against the issuers' keys. A code of this network's form that is not genuine (unsigned, altered,
    signed by a stranger) raises a forged-code alert; nothing else is recorded."""
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.PayloadTooLarge(f"images up to {MAX_UPLOAD // (1024 * 1024)} MB are read", limit=MAX_UPLOAD)
    if data.startswith(b"%PDF-"):
        raise errors.UnsupportedMediaType("send an image; PDF label sheets are read by `lotline scan`")
    decoded = service.decode_upload(session, data)
    service.report_not_genuine(session, state.signer, org, decoded)
    return decoded
