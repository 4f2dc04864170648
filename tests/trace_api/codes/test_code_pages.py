"""Issuing codes from the batch page over HTTP: a small run at once, a large one queued with a page that refreshes
itself, the API's refusals worded, and a run seen only by its issuer (and regulators)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.codes import continue_run
from ledger.models import Code
from ledger.settings import Settings
from tests.trace_api.client import Api
from tests.trace_api.pages import COLD, HTML, form_secrets, register_beef, sign_in
from trace_api.worker.queue import create_celery


def issue_form(api: Api, batch_id: object) -> dict[str, str]:
    page = api.client.get(f"/app/batches/{batch_id}", headers=HTML)
    assert page.status_code == 200
    assert f'action="/app/batches/{batch_id}/codes"' in page.text
    found = re.search(r'name="form_key" value="([0-9a-f]{32})">\s*<label>', page.text)
    assert found
    return {**form_secrets(page.text), "form_key": found[1]}


def code_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Code)) or 0


def test_a_small_run_is_issued_at_once_and_only_once(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    sign_in(api, token)
    form = {**issue_form(api, batch["id"]), "count": "12"}

    first = api.client.post(f"/app/batches/{batch['id']}/codes", data=form, follow_redirects=False)
    again = api.client.post(f"/app/batches/{batch['id']}/codes", data=form, follow_redirects=False)

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert code_count(session_factory) == 12
    run = api.client.get(first.headers["location"], headers=HTML).text
    assert "已签发 12 / 12 个" in run
    assert 'http-equiv="refresh"' not in run
    assert f'href="/app/batches/{batch["id"]}/labels.pdf?run=' in run


def test_a_large_run_is_queued_for_the_worker_and_its_page_refreshes_until_done(
    api: Api, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    _importer, token = api.org("进口商", "producer")
    gtin = register_beef(api, token)["gtin"]
    big = api.client.post(
        "/api/v1/batches", headers=api.auth(token), json={"gtin": gtin, "lot": "BIG1", "quantity": 20_000, **COLD}
    ).json()
    sign_in(api, token)

    queued = api.client.post(
        f"/app/batches/{big['id']}/codes", data={**issue_form(api, big["id"]), "count": "10001"}, follow_redirects=False
    )

    run_id = int(queued.headers["location"].rsplit("/", 1)[1])
    page = api.client.get(queued.headers["location"], headers=HTML).text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "排队中" in page
    assert "已签发 0 / 10001 个" in page
    with create_celery(settings).connection_for_read() as connection:  # the message the worker will take
        inbox = connection.SimpleQueue(settings.queue)
        message = inbox.get(timeout=10)
        message.ack()
        inbox.close()
    assert (message.headers["task"], message.decode()[0]) == ("lotline.issue_codes", [run_id])

    app: FastAPI = api.client.app  # type: ignore[assignment]
    continue_run(session_factory, app.state.lotline.signer, run_id)  # what that task runs
    page = api.client.get(queued.headers["location"], headers=HTML).text
    assert "http-equiv" not in page
    assert "已签发 10001 / 10001 个" in page
    assert code_count(session_factory) == 10_001


def test_more_codes_than_the_batch_has_units_are_refused(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    sign_in(api, token)
    reply = api.client.post(
        f"/app/batches/{batch['id']}/codes", data={**issue_form(api, batch["id"]), "count": "101"}, headers=HTML
    )
    assert reply.status_code == 409
    assert "签发数量超过了本批次尚未赋码的数量。" in reply.text
    assert f'href="/app/batches/{batch["id"]}">返回批次页面' in reply.text
    assert code_count(session_factory) == 0


@pytest.mark.parametrize("count", ["0", "-1", "ten", "2000001", ""])
def test_a_count_that_is_not_a_whole_number_in_range_is_refused(
    api: Api, session_factory: sessionmaker[Session], count: str
) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    sign_in(api, token)
    reply = api.client.post(
        f"/app/batches/{batch['id']}/codes", data={**issue_form(api, batch["id"]), "count": count}, headers=HTML
    )
    assert reply.status_code == 422
    assert "签发数量应为 1 至 2000000 之间的整数。" in reply.text
    assert code_count(session_factory) == 0


def test_only_the_registrant_issues_codes_and_sees_its_runs(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    _market, market_token = api.org("批发市场", "distributor")
    batch = register_beef(api, token)
    sign_in(api, token)
    form = {**issue_form(api, batch["id"]), "count": "3"}
    run_path = api.client.post(f"/app/batches/{batch['id']}/codes", data=form, follow_redirects=False)
    sign_in(api, market_token)
    assert api.client.get(run_path.headers["location"], headers=HTML).status_code == 404
    secrets = form_secrets(api.client.get("/app/products", headers=HTML).text)
    refused = api.client.post(
        f"/app/batches/{batch['id']}/codes", data={**secrets, "count": "3"}, headers=HTML, follow_redirects=False
    )
    assert refused.status_code == 404  # the batch is not the market's to see, let alone to code
    assert code_count(session_factory) == 3
