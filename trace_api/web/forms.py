"""What every page form shares: the CSRF token and the key that makes a submit happen once, refusals worded in
the page's language, and the one-time write behind a form.

Every box arrives as text, so nothing is refused by the framework before the page can say why. A form's own
refusals are errors of the one tree (``ledger.errors``) whose ``detail`` is already in the page's language, so a
page maps them to a status exactly as the API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from fastapi import Request
from pydantic import BaseModel, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Organisation
from trace_api.state import AppState
from trace_api.web.auth import csrf_ok
from trace_api.web.i18n import Words
from trace_api.web.idempotency import run_once
from trace_api.web.schemas import Response, check_input

FORM_KEY: Final = re.compile(r"^[0-9a-f]{32}$")


class SignedForm(BaseModel):
    """What every form carries: the CSRF token, and a key drawn when the form was opened, so a double submit
    replays the first answer instead of writing twice (the JSON API's Idempotency-Key)."""

    csrf: str = ""
    form_key: str = ""

    @field_validator("*", mode="after")
    @classmethod
    def _shared_input_rules(cls, value: Any, _info: ValidationInfo) -> Any:
        """The API's rules for what a client sends (``trace_api.web.schemas``): no control characters in text."""
        check_input(value)
        return value


class FormRefusal(errors.LotlineError):
    """A form the page cannot carry out; ``detail`` says why, in the page's language."""


class FormRefused(FormRefusal, errors.InvalidInput):
    """What the clerk typed cannot be read (422)."""


class FormExpired(FormRefusal, errors.Forbidden):
    """The form lacks this session's CSRF token or a key to submit it once by (403): it is reloaded, not trusted."""


class FormMalformed(FormRefusal):
    """A form no page of ours sends, such as columns of different lengths (400)."""


class Created(Response):
    """What a page's write keeps under its form key: the id of what it made or changed."""

    id: int


def check_signed(request: Request, state: AppState, form: SignedForm, t: Words) -> None:
    if not csrf_ok(request, state, form.csrf) or not FORM_KEY.match(form.form_key):
        raise FormExpired(t("csrf.refused"))


def submit_once(session: Session, org: Organisation, form: SignedForm, payload: Any, act: Callable[[], int]) -> int:
    """Run a form's write once per form key; a resubmitted form answers with the id the first one wrote."""
    _status, created = run_once(
        session, org, f"page-{form.form_key}", payload, Created, lambda: (200, Created(id=act()))
    )
    return created.id


def explain(error: errors.LotlineError, t: Words) -> str:
    """A refusal in the page's language; the English detail follows where the words have no entry of their own."""
    if isinstance(error, FormRefusal):
        return error.detail
    key = f"refusal.{error.reason}"
    if t.has(key):
        return t(key)
    return t("refusal.other", reason=error.reason, detail=error.detail)
