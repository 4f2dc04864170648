"""The batch registration form: what a clerk typed, checked by the same rules as the JSON API, and refusals
worded in the page's language.

Every field arrives as text (an empty box is ""), so nothing is refused by the framework before we can say
why in words; the values then go through :class:`~trace_api.batches.schemas.BatchCreate`, the JSON API's own
model, so the form and the API accept exactly the same batches.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import ValidationError

from ledger import errors
from trace_api.batches.schemas import BatchCreate
from trace_api.web.forms import FormRefusal, FormRefused, SignedForm
from trace_api.web.i18n import Words
from trace_api.web.lookup import ATTRIBUTE_FIELDS

DATE_FIELDS: Final = frozenset({"production_date", "expiry_date", "harvest_date"})
# The form's boxes, in the order a clerk fills them; choices are the values the API accepts.
FORM_FIELDS: Final = ("production_date", "expiry_date", *ATTRIBUTE_FIELDS)
CHOICES: Final = {"nucleic_acid_result": ("negative", "positive"), "rapid_test_result": ("pass", "fail")}


class BatchForm(SignedForm):
    """The posted form, every box as text."""

    gtin: str = ""
    lot: str = ""
    quantity: str = ""
    production_date: str = ""
    expiry_date: str = ""
    customs_declaration_no: str = ""
    origin_country: str = ""
    quarantine_cert_no: str = ""
    nucleic_acid_test_no: str = ""
    nucleic_acid_result: str = ""
    disinfection_cert_no: str = ""
    farm_origin: str = ""
    harvest_date: str = ""
    rapid_test_result: str = ""
    rapid_test_no: str = ""
    vaccine_approval_no: str = ""
    lot_release_cert_no: str = ""
    manufacturer: str = ""

    def values(self) -> dict[str, str]:
        """What the clerk typed, to put back in the boxes when the form comes back refused."""
        return self.model_dump(exclude={"csrf", "form_key"})


def to_batch_create(form: BatchForm, t: Words) -> BatchCreate:
    payload: dict[str, Any] = {name: value.strip() for name, value in form.values().items() if value.strip()}
    quantity = payload.get("quantity", "")
    if re.fullmatch(r"-?\d{1,12}", quantity):
        payload["quantity"] = int(quantity)
    if "origin_country" in payload:
        payload["origin_country"] = payload["origin_country"].upper()
    try:
        return BatchCreate.model_validate(payload)
    except ValidationError as invalid:
        raise FormRefused(_explain(invalid, t)) from None


def _explain(invalid: ValidationError, t: Words) -> str:
    sentences = []
    for problem in invalid.errors():
        location = [str(part) for part in problem.get("loc", ())]
        message = str(problem.get("msg", ""))
        if not location:
            key = "error.future_date" if "future" in message else "error.expiry_before_production"
            sentences.append(t(key))
        elif location[0] == "quantity":
            sentences.append(t("error.InvalidQuantity"))
        else:
            sentences.append(t("error.invalid_field", field=t.field(location[0])))
    return " ".join(dict.fromkeys(sentences))


def explain_refusal(error: errors.LotlineError, t: Words) -> str:
    """A refusal in the page's language; the English detail follows for the ledger's reasons we have no words for."""
    if isinstance(error, FormRefusal):
        return error.detail
    missing = error.context.get("missing")
    if isinstance(error, errors.InvalidInput) and isinstance(missing, list):
        separator = "、" if t.lang == "zh-CN" else ", "
        return t("error.missing", fields=separator.join(t.field(str(name)) for name in missing))
    key = f"error.{error.reason}"
    if t.has(key):
        return t(key)
    return f"{t('error.other', reason=error.reason)} {error.detail}"
