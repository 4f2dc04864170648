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
from ledger.models import Category
from trace_api.batches.schemas import BatchCreate
from trace_api.web.forms import FormRefusal, FormRefused, SignedForm
from trace_api.web.i18n import Words

DATE_FIELDS: Final = frozenset({"production_date", "expiry_date", "harvest_date"})
# Each flow's boxes, in the order its clerk fills them (docs/flows.md): a cold-chain importer never sees a
# pesticide test, a vaccine maker never a customs declaration. The ledger decides which of them are required
# (REQUIRED_BY_CATEGORY); the form marks those.
FLOW_FIELDS: Final = {
    Category.COLD_CHAIN: (
        "customs_declaration_no",
        "origin_country",
        "quarantine_cert_no",
        "nucleic_acid_test_no",
        "nucleic_acid_result",
        "disinfection_cert_no",
        "production_date",
        "expiry_date",
    ),
    Category.FARM_PRODUCE: ("farm_origin", "harvest_date", "rapid_test_result", "rapid_test_no", "expiry_date"),
    Category.VACCINE: ("vaccine_approval_no", "lot_release_cert_no", "manufacturer", "production_date", "expiry_date"),
}
# Choices are the values the API accepts.
CHOICES: Final = {"nucleic_acid_result": ("negative", "positive"), "rapid_test_result": ("pass", "fail")}


class BatchForm(SignedForm):
    """The posted form, every box as text; ``category`` is the flow whose boxes were shown."""

    category: str = ""
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
        return self.model_dump(exclude={"csrf", "form_key", "category"})


def flow(text: str | None) -> Category | None:
    """The flow a form or a link names, or None for anything else."""
    return Category(text) if text in set(Category) else None


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
