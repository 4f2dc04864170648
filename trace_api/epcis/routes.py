"""EPCIS 2.0 over GS1's REST binding: capture a document, query events, fetch one event by its id.

Capture is synchronous: the answer is the finished capture job (``running: false``) with each event's id and
fate (applied / recorded / duplicate), and the events are in the ledger when it arrives, so there is no
``/capture/{captureID}`` to poll. Only the ``rollback`` error behaviour exists: a document is captured whole or not
at all. As GS1's binding says, an invalid document (schema, unknown event type, malformed EPC or Digital Link) is a
400, not the 422 the rest of the API uses for malformed input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse

from importers.epcis_capture import capture, prepare
from ledger import errors
from ledger.coldchain.sensors import parse_sensor_query
from trace_api.epcis.contexts import AnswerContext
from trace_api.epcis.query import MAX_PER_PAGE, EventQuery, get_event, query_document, query_events
from trace_api.epcis.schemas import CapturedEvent, CaptureJob
from trace_api.epcis.typed import parse_typed
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import ErrorBody, error_responses
from trace_api.web.idempotency import run_once

router = APIRouter(prefix="/epcis", tags=["epcis"])

# Refusals GS1's binding answers with 400 (the rest of the API says 422 for malformed input).
_BAD_REQUEST = (errors.InvalidEvent, errors.InvalidIdentifier, errors.InvalidQuantity)
_CAPTURE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "InvalidEvent, InvalidIdentifier, InvalidQuantity"},
    **error_responses(
        errors.PayloadTooLarge,
        errors.RoleRequired,
        errors.UnknownCode,
        errors.UnknownOrganisation,
        errors.UnknownShipment,
        errors.IdempotencyKeyReused,
        errors.QuantityExceeded,
        errors.NotHolder,
        errors.RecalledGoods,
    ),
}
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="optional: a retry with the same key replays the first answer (identical events are never "
        "recorded twice anyway: a re-sent event is reported as a duplicate)",
    ),
]


@router.post(
    "/capture", status_code=201, response_model=CaptureJob, response_model_exclude_none=True, responses=_CAPTURE_ERRORS
)
def capture_document(
    document: Annotated[dict[str, Any], Body(description="an EPCIS 2.0 JSON-LD EPCISDocument")],
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: OptionalIdempotencyKey = None,
    content_length: Annotated[int | None, Header(include_in_schema=False)] = None,
) -> Any:
    """Capture every event of the document as the calling organisation, all-or-nothing. Events about goods of
    this network go through the same rules as scans ("applied"); others are recorded as the organisation's own
    observations ("recorded"). Each event's id is its CBV 2.0 hash."""
    limit = state.settings.max_upload_bytes
    if content_length is not None and content_length > limit:
        raise errors.PayloadTooLarge(f"the document is {content_length} bytes; the limit is {limit}", limit=limit)
    try:
        events = prepare(document)
    except _BAD_REQUEST as error:
        return JSONResponse(error.as_dict(), status_code=400)

    def write() -> tuple[int, CaptureJob]:
        statuses = capture(session, state.signer, org, events)
        captured = [
            CapturedEvent(
                index=s.index,
                event_id=s.event_id,
                status=s.outcome.value,
                operation=s.operation or None,
                declared_event_id=s.declared_event_id or None,
            )
            for s in statuses
        ]
        job = CaptureJob(
            running=False,
            success=True,
            capture_error_behaviour="rollback",
            errors=[],
            event_count=len(captured),
            events=captured,
        )
        return 201, job

    try:
        _status, job = (
            write() if idempotency_key is None else run_once(session, org, idempotency_key, document, CaptureJob, write)
        )
    except _BAD_REQUEST as error:
        session.rollback()  # nothing of the document, nor the idempotency claim, may be committed
        return JSONResponse(error.as_dict(), status_code=400)
    return job


def _pipe(value: str | None) -> list[str]:
    """GS1's REST binding sends lists pipe-delimited (``eventType=ObjectEvent|AggregationEvent``)."""
    return [part for part in (value or "").split("|") if part]


@router.get("/events", responses=error_responses())
def list_events(
    request: Request,
    org: CurrentOrg,
    session: SessionDep,
    event_type: Annotated[str | None, Query(alias="eventType")] = None,
    ge_event_time: Annotated[datetime | None, Query(alias="GE_eventTime")] = None,
    lt_event_time: Annotated[datetime | None, Query(alias="LT_eventTime")] = None,
    ge_record_time: Annotated[datetime | None, Query(alias="GE_recordTime")] = None,
    lt_record_time: Annotated[datetime | None, Query(alias="LT_recordTime")] = None,
    eq_action: Annotated[str | None, Query(alias="EQ_action")] = None,
    eq_biz_step: Annotated[str | None, Query(alias="EQ_bizStep")] = None,
    eq_disposition: Annotated[str | None, Query(alias="EQ_disposition")] = None,
    eq_read_point: Annotated[str | None, Query(alias="EQ_readPoint")] = None,
    eq_biz_location: Annotated[str | None, Query(alias="EQ_bizLocation")] = None,
    wd_read_point: Annotated[str | None, Query(alias="WD_readPoint")] = None,
    wd_biz_location: Annotated[str | None, Query(alias="WD_bizLocation")] = None,
    match_epc: Annotated[str | None, Query(alias="MATCH_epc")] = None,
    match_any_epc: Annotated[str | None, Query(alias="MATCH_anyEPC")] = None,
    match_epc_class: Annotated[str | None, Query(alias="MATCH_epcClass")] = None,
    match_parent_id: Annotated[str | None, Query(alias="MATCH_parentID")] = None,
    match_input_epc: Annotated[str | None, Query(alias="MATCH_inputEPC")] = None,
    match_output_epc: Annotated[str | None, Query(alias="MATCH_outputEPC")] = None,
    exists_error_declaration: Annotated[bool | None, Query(alias="EXISTS_errorDeclaration")] = None,
    eq_error_reason: Annotated[str | None, Query(alias="EQ_errorReason")] = None,
    eq_corrective_event_id: Annotated[str | None, Query(alias="EQ_correctiveEventID")] = None,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=MAX_PER_PAGE)] = 30,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=32)] = None,
) -> Any:
    """The events visible to the caller that match every given parameter, oldest first, as an
    EPCISQueryDocument. A ``Link: <…>; rel="next"`` header points at the next page while there is one.

    The sensor parameters of EPCIS 2.0 apply too, all to one and the same sensor report: ``EQ_type``,
    ``EQ_deviceID``, ``EQ_dataProcessingMethod``, ``EQ_bizRules`` and the other ``EQ_`` fields of a report,
    ``GE_time``/``LT_time``, and ``EQ_``/``GT_``/``GE_``/``LT_``/``LE_`` on ``value``, ``minValue``, ``maxValue``,
    ``meanValue``, ``sDev`` or ``percValue`` with a unit (``GE_value_CEL=8``; temperatures compare across CEL, FAH
    and KEL).

    Parties and transactions by type: ``EQ_bizTransaction_<type>``, ``EQ_source_<type>``,
    ``EQ_destination_<type>`` (``EQ_bizTransaction_po=urn:…``; a type in any CBV spelling).

    Error declarations: ``EXISTS_errorDeclaration`` (an event declared erroneous; ``false`` for the others),
    ``EQ_errorReason`` (``incorrect_data``, in any CBV spelling) and ``EQ_correctiveEventID``."""
    query = EventQuery(
        event_types=_pipe(event_type),
        ge_event_time=ge_event_time,
        lt_event_time=lt_event_time,
        ge_record_time=ge_record_time,
        lt_record_time=lt_record_time,
        actions=_pipe(eq_action),
        biz_steps=_pipe(eq_biz_step),
        dispositions=_pipe(eq_disposition),
        # WD_ ("with descendants") names a location and those under it in the master data's hierarchy; lotline
        # keeps no location hierarchy, so a location's descendants are itself alone.
        read_points=_pipe(eq_read_point) + _pipe(wd_read_point),
        biz_locations=_pipe(eq_biz_location) + _pipe(wd_biz_location),
        match_epc=_pipe(match_epc),
        match_any_epc=_pipe(match_any_epc),
        match_epc_class=_pipe(match_epc_class),
        match_parent_id=_pipe(match_parent_id),
        match_input_epc=_pipe(match_input_epc),
        match_output_epc=_pipe(match_output_epc),
        typed=parse_typed(request.query_params.multi_items()),
        sensor=parse_sensor_query(request.query_params.multi_items()),
        error_declared=exists_error_declaration,
        error_reasons=_pipe(eq_error_reason),
        corrective_event_ids=_pipe(eq_corrective_event_id),
        per_page=per_page,
        next_page_token=next_page_token,
    )
    page = query_events(session, org, query)
    headers = {}
    if page.next_page_token is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        next_url = f"{request.url.path}?{urlencode([*params, ('nextPageToken', page.next_page_token)])}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(page.document(), headers=headers)


@router.get("/events/{event_id:path}", responses=error_responses(errors.UnknownEvent))
def one_event(event_id: str, org: CurrentOrg, session: SessionDep) -> Any:
    """One event by its id (the URL-encoded ``ni:///sha-256;…?ver=CBV2.0`` URI), if the caller may see it."""
    event = get_event(session, org, event_id)
    context = AnswerContext()
    context.admit(event)
    return JSONResponse(query_document([event], context.context()))
