"""The product registration form: every box as text, read into the JSON API's own ``ProductCreate`` so the form
and the API accept exactly the same products, with refusals worded in the page's language."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ledger import errors
from trace_api.products.schemas import ProductCreate
from trace_api.web.forms import FormRefusal, FormRefused, SignedForm
from trace_api.web.i18n import Words


class ProductForm(SignedForm):
    name: str = ""
    name_en: str = ""
    category: str = ""
    gtin: str = ""
    unit: str = "EA"
    storage_min_c: str = ""
    storage_max_c: str = ""

    def values(self) -> dict[str, str]:
        """What the clerk typed, to put back in the boxes when the form comes back refused."""
        return self.model_dump(exclude={"csrf", "form_key"})


def to_product_create(form: ProductForm, t: Words) -> ProductCreate:
    payload: dict[str, Any] = {name: value.strip() for name, value in form.values().items() if value.strip()}
    if "unit" in payload:
        payload["unit"] = payload["unit"].upper()
    try:
        for name in ("storage_min_c", "storage_max_c"):
            if name in payload:
                payload[name] = float(payload[name].replace("−", "-"))
        return ProductCreate.model_validate(payload)
    except ValueError as invalid:
        raise FormRefused(_explain(invalid, t)) from None


def _explain(invalid: ValueError, t: Words) -> str:
    if not isinstance(invalid, ValidationError):
        return t("product_error.storage")
    fields = dict.fromkeys(str(problem["loc"][0]) for problem in invalid.errors() if problem.get("loc"))
    return " ".join(t(f"product_error.{name}") for name in fields)


def explain_refusal(error: errors.LotlineError, t: Words) -> str:
    """A refusal in the page's language; the English detail follows for reasons we have no words for."""
    if isinstance(error, FormRefusal):
        return error.detail
    key = f"product_error.{error.reason}"
    if t.has(key):
        return t(key)
    return t("refusal.other", reason=error.reason, detail=error.detail)
