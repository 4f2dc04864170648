"""One place maps the error tree of ``ledger.errors`` to HTTP. The errors themselves know nothing of HTTP: the
worker and the CLI raise the same classes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import errors

# Most specific first: the first class an error is an instance of decides its status.
STATUS: list[tuple[type[errors.LotlineError], int]] = [
    (errors.NotAuthenticated, 401),
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RuleViolation, 409),
    (errors.InvalidInput, 422),
    (errors.LotlineError, 400),
]


class ErrorBody(BaseModel):
    """Every refusal: ``error`` is the machine-readable reason, ``detail`` a sentence for people."""

    error: str
    detail: str
    context: dict[str, object] | None = None


def status_of(error: errors.LotlineError) -> int:
    return next(code for cls, code in STATUS if isinstance(error, cls))


def error_responses(*errors_: type[errors.LotlineError]) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for a route: each status it can answer with, described by the reasons behind it."""
    out: dict[int | str, dict[str, object]] = {}
    for cls in (*errors_, errors.InvalidInput):
        code = next(code for base, code in STATUS if issubclass(cls, base))
        entry = out.setdefault(code, {"model": ErrorBody, "description": ""})
        entry["description"] = ", ".join(filter(None, [str(entry["description"]), cls.__name__]))
    out.setdefault(401, {"model": ErrorBody, "description": "NotAuthenticated"})
    return out


def refusal(error: errors.LotlineError) -> JSONResponse:
    """The JSON answer to a refusal: its status, ``{"error", "detail", "context"}``, and a challenge on a 401."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, errors.NotAuthenticated) else None
    return JSONResponse(error.as_dict(), status_code=status_of(error), headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.LotlineError)
    async def lotline_error(_request: Request, error: errors.LotlineError) -> JSONResponse:
        return refusal(error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in error.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        return JSONResponse(
            {
                "error": "InvalidRequest",
                "detail": f"{first['field']}: {first['message']}",
                "context": {"problems": problems},
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        reason = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 415: "UnsupportedMediaType"}
        return JSONResponse(
            {"error": reason.get(error.status_code, "HTTPError"), "detail": str(error.detail)},
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
