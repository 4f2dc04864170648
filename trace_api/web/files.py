"""Files the API hands out: exports, templates and label sheets, each a download with its own file name."""

from __future__ import annotations

from typing import Final

from fastapi.responses import Response

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """``content`` as a download saved as ``filename`` (``RC-2026-000042.xlsx``)."""
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
