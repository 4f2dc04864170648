"""Files the API hands out (exports, templates and label sheets, each a download with its own file name) and the
documents it keeps (certificates, an excursion's evidence): PDF, PNG or JPEG, checked by their bytes."""

from __future__ import annotations

from typing import Final

from fastapi.responses import Response

from ledger import errors

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCUMENT_TYPES: Final = {"application/pdf", "image/png", "image/jpeg"}
_MAGIC: Final = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """``content`` as a download saved as ``filename`` (``RC-2026-000042.xlsx``)."""
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def check_document(content_type: str, content: bytes, max_bytes: int) -> None:
    """A kept document is a PDF, PNG or JPEG whose bytes say so (a renamed executable is not a PDF), not empty
    and not over the upload limit."""
    if content_type not in DOCUMENT_TYPES:
        raise errors.UnsupportedMediaType(
            f"documents must be PDF, PNG or JPEG, not {content_type!r}", allowed=sorted(DOCUMENT_TYPES)
        )
    if len(content) > max_bytes:
        raise errors.PayloadTooLarge(f"document is {len(content)} bytes; the limit is {max_bytes}", limit=max_bytes)
    if not content:
        raise errors.InvalidInput("document is empty")
    if not content.startswith(_MAGIC[content_type]):
        raise errors.UnsupportedMediaType(f"the file's content is not {content_type}", content_type=content_type)
