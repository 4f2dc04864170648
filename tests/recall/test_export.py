"""The recall exports: one row per critical tracking event with every FSMA 204 key data element filled, as CSV
that Excel opens with Chinese intact and as an XLSX that openpyxl reads back; and the EPCIS 2.0 document."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.epcis_schema import validate_document
from ledger.models import Event, EventBatch, Recall
from recall import export, service
from recall.service import BatchRef
from tests.recall.recall_network import STEAK_LOT, Traded, build_traded

HEADERS = [header for _, header in export.COLUMNS]


@pytest.fixture
def traded(db: Session) -> Traded:
    return build_traded(db)


@pytest.fixture
def recall(db: Session, traded: Traded) -> Recall:
    opened = service.open_recall(
        db,
        traded.net.regulator,
        batches=[BatchRef(*traded.beef_line)],
        recall_class=1,
        reason="沙门氏菌",
        public_url="https://trace.example.cn",
    )
    db.commit()
    return opened


def expected_events(traded: Traded) -> list[tuple[str, str, int]]:
    beef = f"(01){traded.net.beef_gtin}(10){traded.net.beef.lot}"
    steaks = f"(01){traded.steak_gtin}(10){STEAK_LOT}"
    return [
        ("Receiving (first receiver of an import)", beef, 100),
        ("Shipping", beef, 30),
        ("Receiving", beef, 30),
        ("Shipping", beef, 10),
        ("Receiving", beef, 10),
        ("Sale to consumer", beef, 2),
        ("Transformation (input lot)", beef, 5),
        ("Transformation (new lot)", steaks, 20),
        ("Shipping", beef, 5),  # still on the truck when the recall opened
    ]


def test_the_xlsx_has_one_row_per_critical_tracking_event_with_every_kde_column_filled(
    db: Session, traded: Traded, recall: Recall
) -> None:
    content = export.to_xlsx(export.export_rows(db, recall.id), title=recall.number)

    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert all(cell.font.b for cell in sheet[1])
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A2", f"A1:N{len(rows)}")
    body = rows[1:]
    assert [(r[0], r[2], r[4]) for r in body] == expected_events(traded)
    assert all(value not in (None, "") for row in body for value in row)


def test_each_row_names_where_the_goods_came_from_went_to_and_the_document_behind_it(
    db: Session, traded: Traded, recall: Recall
) -> None:
    net = traded.net
    rows = export.export_rows(db, recall.id)
    birth, first_ship, _, _, _, sale, cut_input, cut_output, _ = rows

    assert (birth["previous_source"], birth["reference_type"], birth["reference_number"]) == (
        "Imported from BR",
        "Customs declaration",
        net.beef.customs_declaration_no,
    )
    assert first_ship["previous_source"].startswith(net.importer.name)
    assert first_ship["next_recipient"].startswith(net.wholesaler.name)
    assert first_ship["reference_type"] == "Shipment"
    assert sale["next_recipient"] == "Consumer (retail sale)"
    assert cut_input["next_recipient"] == f"New lot (01){traded.steak_gtin}(10){STEAK_LOT}"
    assert cut_output["previous_source"] == f"Input lots (01){net.beef_gtin}(10){net.beef.lot}"
    assert cut_output["tlc_source"].startswith(net.wholesaler.name)  # the transformer assigned the new lot code
    assert {r["tlc_source"] for r in rows if r["tlc"].endswith(net.beef.lot)} == {
        f"{net.importer.name} (USCC {net.importer.uscc})"
    }


def test_the_csv_carries_a_byte_order_mark_and_the_same_rows(db: Session, traded: Traded, recall: Recall) -> None:
    rows = export.export_rows(db, recall.id)

    content = export.to_csv(rows)

    assert content.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert parsed[0] == HEADERS
    assert [(r[0], r[2], int(r[4])) for r in parsed[1:]] == expected_events(traded)
    assert "冷冻牛肉" in parsed[1][3]


def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(
    db: Session, traded: Traded, recall: Recall
) -> None:
    traded.net.retailer.name = '=HYPERLINK("http://evil.example","x")'
    db.commit()
    rows = export.export_rows(db, recall.id)

    sheet = load_workbook(io.BytesIO(export.to_xlsx(rows, title="t"))).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if "evil" in str(c.value)]
    assert cells
    assert all(c.data_type == "s" and str(c.value).startswith("'=") for c in cells)
    assert "'=HYPERLINK" in export.to_csv(rows).decode("utf-8-sig")


def test_the_epcis_export_is_a_valid_document_of_every_event_of_the_recalled_batches(
    db: Session, traded: Traded, recall: Recall
) -> None:
    document = export.epcis_export(db, recall.id)

    validate_document(document)
    seqs = select(EventBatch.event_seq).where(EventBatch.batch_id.in_([traded.net.beef.id, traded.steaks.id]))
    expected = set(db.scalars(select(Event.event_id).where(Event.seq.in_(seqs))))
    exported = [e["eventID"] for e in document["epcisBody"]["eventList"]]
    assert sorted(exported) == sorted(expected)
    assert any(e["type"] == "TransformationEvent" for e in document["epcisBody"]["eventList"])
