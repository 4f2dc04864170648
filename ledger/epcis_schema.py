"""Validation of EPCIS 2.0 events and documents against GS1's JSON schema, with errors that name the field.

The schema (``ledger/schemas/EPCIS-JSON-Schema.json``, GS1's own) is run wherever events come from outside:
the capture importer, the exports' self-check. A failure is reported at the deepest field that broke it, so
a partner sees ``epcisBody.eventList[3].bizStep`` rather than "event 3 matches none of the anyOf branches".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any, Final

import jsonschema
from jsonschema.exceptions import ValidationError

from ledger.errors import InvalidEvent
from ledger.event_hash import EVENT_TYPES

_FORMAT_NAMES: Final = {"uri": "URI", "date-time": "date-time"}
_BLANK_NODE: Final = re.compile(r"_:[^\s]+")


@cache
def _validators() -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator]:
    schema = json.loads(files("ledger.schemas").joinpath("EPCIS-JSON-Schema.json").read_text())
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    event = {"allOf": [{"$ref": "#/definitions/EPCIS-Document-Event"}], "definitions": schema["definitions"]}
    return (
        jsonschema.Draft7Validator(schema, format_checker=checker),
        jsonschema.Draft7Validator(event, format_checker=checker),
    )


def validate_event(event: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidEvent` naming the first failing field if ``event`` (as found in an eventList) is not
    a valid EPCIS 2.0 event of one of the five standard types."""
    _check_type(event, "")
    _raise_first(_validators()[1], event, "")


def validate_document(document: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidEvent` naming the first failing field. A blank-node document id (``"id":
    "_:document1"``, as GS1 writes its simple-context examples) is a valid JSON-LD node id that GS1's schema,
    asking for a URI, would refuse; it is accepted."""
    if isinstance(document.get("id"), str) and _BLANK_NODE.fullmatch(document["id"]):
        document = {key: value for key, value in document.items() if key != "id"}
    if document.get("type") != "EPCISDocument":
        raise InvalidEvent(f"type: expected 'EPCISDocument', got {document.get('type')!r}", field="type")
    events = document.get("epcisBody", {}).get("eventList") if isinstance(document.get("epcisBody"), dict) else None
    for index, event in enumerate(events if isinstance(events, list) else ()):
        if isinstance(event, Mapping):
            _check_type(event, f"epcisBody.eventList[{index}]")
    _raise_first(_validators()[0], document, "")


def _check_type(event: Mapping[str, Any], path: str) -> None:
    if event.get("type") not in EVENT_TYPES:
        where = f"{path}.type" if path else "type"
        raise InvalidEvent(
            f"{where}: unknown event type {event.get('type')!r}; expected one of {', '.join(sorted(EVENT_TYPES))}",
            field=where,
        )


def _raise_first(validator: jsonschema.Draft7Validator, instance: Mapping[str, Any], prefix: str) -> None:
    error = _deepest(validator.iter_errors(instance))
    if error is None:
        return
    path = _path(error)
    message = error.message
    if error.validator == "format":
        message = (
            f"{error.instance!r} is not a valid {_FORMAT_NAMES.get(str(error.validator_value), error.validator_value)}"
        )
    raise InvalidEvent(f"{path or '(document)'}: {message}", field=path)


def _deepest(errors: Iterable[ValidationError]) -> ValidationError | None:
    """The error deepest in the instance: inside an anyOf that is the field that broke it, not its event."""
    found = None
    for error in errors:
        candidate = _deepest(error.context) if error.context else error
        if candidate is not None and (found is None or len(candidate.absolute_path) > len(found.absolute_path)):
            found = candidate
    return found


def _path(error: ValidationError) -> str:
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text
