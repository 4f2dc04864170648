"""Bulk registration over HTTP: download a template, fill it, upload it; refusals list every problem."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook

from importers.templates import DATA_SHEET, match_header
from ledger.models import Category
from ledger.settings import Settings
from tests.importers.sheets import Row, valid_row
from tests.trace_api.client import Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


MAX_UPLOAD = 64_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_bytes": MAX_UPLOAD})


def producer_with_product(api: Api, flow: Category) -> tuple[str, str]:
    _org, token = api.org("进口商", "producer")
    reply = api.client.post(
        "/api/v1/products", headers=api.auth(token), json={"name": f"{flow.value} 商品", "category": flow.value}
    )
    assert reply.status_code == 201, reply.text
    return token, reply.json()["gtin"]


def fill_xlsx(template: bytes, rows: list[Row]) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book[DATA_SHEET]
    keys = [match_header(str(cell.value)) for cell in sheet[1]]
    for row in rows:
        sheet.append([row.get(k or "", "") for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill_csv(template: bytes, rows: list[Row]) -> bytes:
    header = next(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    keys = [match_header(h) for h in header]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([row.get(k or "", "") for k in keys] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def upload(api: Api, token: str, data: bytes, name: str = "batches.xlsx", **params: str) -> httpx.Response:
    reply: httpx.Response = api.client.post(
        "/api/v1/imports",
        headers=api.auth(token),
        params=params,
        files={"file": (name, data, "application/octet-stream")},
    )
    return reply


@pytest.mark.parametrize("flow", list(Category))
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_downloaded_template_filled_and_uploaded_registers_its_batches(api: Api, flow: Category, fmt: str) -> None:
    template = api.client.get(f"/api/v1/imports/templates/{flow.value}.{fmt}")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith(XLSX if fmt == "xlsx" else "text/csv")
    assert f'filename="lotline-{flow.value}-batches.{fmt}"' in template.headers["content-disposition"]
    token, gtin = producer_with_product(api, flow)
    rows = [valid_row(flow, f"{fmt.upper()}{i}") | {"gtin": gtin} for i in range(3)]
    filled = (fill_xlsx if fmt == "xlsx" else fill_csv)(template.content, rows)
    reply = upload(api, token, filled, f"batches.{fmt}")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["flow"], body["format"], body["rows"]) == (flow.value, fmt, 3)
    assert [(r["row"], r["lot"]) for r in body["created"]] == [
        (2, f"{fmt.upper()}0"),
        (3, f"{fmt.upper()}1"),
        (4, f"{fmt.upper()}2"),
    ]
    listed = api.client.get("/api/v1/batches", headers=api.auth(token)).json()
    assert sorted(b["lot"] for b in listed) == [r["lot"] for r in rows]
    assert {b["id"] for b in listed} == {r["batch_id"] for r in body["created"]}


def test_an_upload_with_bad_rows_is_a_422_listing_every_problem_and_writes_nothing(api: Api) -> None:
    token, gtin = producer_with_product(api, Category.FARM_PRODUCE)
    template = api.client.get("/api/v1/imports/templates/farm_produce.xlsx").content
    rows = [
        valid_row(Category.FARM_PRODUCE, "OK1") | {"gtin": gtin},
        valid_row(Category.FARM_PRODUCE, "BAD2") | {"gtin": gtin, "quantity": "-4", "harvest_date": "2999-01-01"},
        valid_row(Category.FARM_PRODUCE, "OK1") | {"gtin": gtin, "quantity": "7"},
    ]
    reply = upload(api, token, fill_xlsx(template, rows))
    assert reply.status_code == 422
    body = reply.json()
    assert (body["error"], body["detail"]) == ("InvalidInput", "4 problems in 3 of 3 rows; nothing was written")
    assert {(e["row"], e["column"], e["error"]) for e in body["context"]["errors"]} == {
        (2, "*批号 (lot)", "InvalidInput"),
        (3, "*数量 (quantity)", "InvalidQuantity"),
        (3, "*采收日期 (harvest_date)", "InvalidInput"),
        (4, "*批号 (lot)", "InvalidInput"),
    }
    assert api.client.get("/api/v1/batches", headers=api.auth(token)).json() == []


def test_uploading_the_same_file_again_writes_nothing_and_a_retry_replays_the_first_answer(api: Api) -> None:
    token, gtin = producer_with_product(api, Category.COLD_CHAIN)
    template = api.client.get("/api/v1/imports/templates/cold_chain.csv").content
    data = fill_csv(template, [valid_row(Category.COLD_CHAIN, "BR1") | {"gtin": gtin}])
    headers = api.auth(token, key="import-0001")
    first = api.client.post("/api/v1/imports", headers=headers, files={"file": ("a.csv", data)})
    retry = api.client.post("/api/v1/imports", headers=headers, files={"file": ("a.csv", data)})
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    again = upload(api, token, data, "a.csv")
    assert again.status_code == 200
    body = again.json()
    assert (body["created"], [r["lot"] for r in body["unchanged"]]) == ([], ["BR1"])
    assert body["summary"] == "nothing to do: all 1 rows are already registered with these declarations"
    assert len(api.client.get("/api/v1/batches", headers=api.auth(token)).json()) == 1


def test_skip_invalid_registers_the_valid_rows_and_lists_the_skipped_ones(api: Api) -> None:
    token, gtin = producer_with_product(api, Category.VACCINE)
    template = api.client.get("/api/v1/imports/templates/vaccine.xlsx").content
    rows = [
        valid_row(Category.VACCINE, "S1") | {"gtin": gtin},
        valid_row(Category.VACCINE, "S2") | {"gtin": gtin, "expiry_date": ""},
    ]
    reply = upload(api, token, fill_xlsx(template, rows), skip_invalid="true")
    assert reply.status_code == 201
    body = reply.json()
    assert ([r["lot"] for r in body["created"]], body["skipped_rows"]) == (["S1"], [3])
    assert body["skipped"][0]["column"] == "*有效期至 (expiry_date)"


def test_an_upload_over_the_size_limit_is_a_413(api: Api) -> None:
    token, _gtin = producer_with_product(api, Category.COLD_CHAIN)
    reply = upload(api, token, b"gtin,lot,quantity\r\n" + b"0" * MAX_UPLOAD, "big.csv")
    assert reply.status_code == 413
    assert reply.json()["error"] == "PayloadTooLarge"


def test_a_file_that_is_not_a_sheet_is_a_415_and_an_unreadable_csv_a_422(api: Api) -> None:
    token, _gtin = producer_with_product(api, Category.COLD_CHAIN)
    xls = upload(api, token, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old.xls")
    assert (xls.status_code, xls.json()["error"]) == (415, "UnsupportedMediaType")
    latin = upload(api, token, "GTIN,Lot,Quantity\r\nCafé,1,2\r\n".encode("cp1252"), "latin.csv")
    assert latin.status_code == 422
    assert latin.json()["context"] == {"line": 2, "byte": "0xE9"}


def test_only_a_producer_uploads_and_only_with_a_token(api: Api) -> None:
    _org, token = api.org("批发市场", "distributor")
    data = api.client.get("/api/v1/imports/templates/cold_chain.csv").content
    assert upload(api, token, data, "a.csv").status_code == 403
    anonymous = api.client.post(
        "/api/v1/imports", files={"file": ("a.csv", data)}, headers={"Idempotency-Key": "k" * 8}
    )
    assert anonymous.status_code == 401


def test_a_template_for_an_unknown_flow_is_a_422(api: Api) -> None:
    reply = api.client.get("/api/v1/imports/templates/seafood.xlsx")
    assert reply.status_code == 422
