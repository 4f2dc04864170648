"""Bulk registration from CSV and XLSX: every row checked first, all problems reported, all or nothing."""

from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from importers.bulk import ImportLimits, import_batches, run_import
from importers.bulk.cells import parse_cell
from importers.templates import TEMPLATES, Kind, match_header, normalize_header, template_csv, template_xlsx
from ledger.errors import InvalidInput, LotlineError, PayloadTooLarge, RoleRequired, UnsupportedMediaType
from ledger.models import Batch, Category, ChainJob, Event, Holding, Organisation, Role
from ledger.registry import REQUIRED_BY_CATEGORY
from ledger.settings import Environment, Settings
from tests.importers.sheets import (
    GTINS,
    LATER,
    PAST,
    TODAY,
    Row,
    csv_bytes,
    grid,
    headers,
    importer,
    valid_row,
    xlsx_bytes,
)
from tests.ledger.network import make_signer

DATA = Path(__file__).parent.parent / "data" / "imports"
COLD, FARM, VACCINE = Category.COLD_CHAIN, Category.FARM_PRODUCE, Category.VACCINE
# The secret that sealed the test organisations' keys (tests.ledger.network.make_signer).
CLI_SETTINGS = Settings(environment=Environment.TEST, secret_key="test-master-secret")


def count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def problems(error: LotlineError) -> set[tuple[int, str | None, str]]:
    return {(e["row"], e["column"], e["error"]) for e in error.context["errors"]}


def refusal(db: Session, data: bytes, **kwargs: object) -> InvalidInput:
    org, signer = importer(db)
    with pytest.raises(InvalidInput) as caught:
        import_batches(db, signer, org, data, **kwargs)  # type: ignore[arg-type]
    assert count(db, Batch) == 0
    return caught.value


@pytest.mark.parametrize("flow", list(Category))
def test_each_flow_registers_every_row_through_the_ledger(db: Session, flow: Category) -> None:
    org, signer = importer(db)
    rows = [valid_row(flow, f"LOT{i:03d}", quantity=10 + i) for i in range(5)]
    report = import_batches(db, signer, org, csv_bytes(grid(rows, headers(flow))))
    assert (report.flow, report.rows, len(report.created), report.unchanged, report.skipped) == (flow, 5, 5, [], [])
    assert [r.row for r in report.created] == [2, 3, 4, 5, 6]
    batches = db.scalars(select(Batch).order_by(Batch.lot)).all()
    assert [(b.lot, b.quantity, b.registrant_org_id) for b in batches] == [
        (f"LOT{i:03d}", 10 + i, org.id) for i in range(5)
    ]
    declared = {k: getattr(batches[0], k) for k in REQUIRED_BY_CATEGORY[flow]}
    assert all(v not in (None, "") for v in declared.values())
    # Same path as one registration over the API: commissioning event, holding, chain job per batch.
    assert count(db, Event) == count(db, Holding) == 5
    assert db.scalar(select(func.count()).where(ChainJob.kind == "register_batch")) == 5


def test_cells_are_stored_as_the_ledger_declares_them(db: Session) -> None:
    org, signer = importer(db)
    import_batches(db, signer, org, csv_bytes(grid([valid_row(COLD, "BR1") | {"origin_country": "br"}], headers(COLD))))
    batch = db.scalars(select(Batch)).one()
    assert (batch.origin_country, batch.nucleic_acid_result) == ("BR", "negative")
    assert (batch.production_date, batch.expiry_date) == (date.fromisoformat(PAST), date.fromisoformat(LATER))


def test_reimporting_the_same_file_changes_nothing_and_says_so(db: Session) -> None:
    org, signer = importer(db)
    data = xlsx_bytes(grid([valid_row(VACCINE, f"V{i}") for i in range(4)], headers(VACCINE)))
    first = import_batches(db, signer, org, data)
    events, jobs = count(db, Event), count(db, ChainJob)
    again = import_batches(db, signer, org, data)
    assert (len(first.created), len(again.created), len(again.unchanged)) == (4, 0, 4)
    assert [(r.row, r.batch_id) for r in again.unchanged] == [(r.row, r.batch_id) for r in first.created]
    assert again.summary == "nothing to do: all 4 rows are already registered with these declarations"
    assert (count(db, Batch), count(db, Event), count(db, ChainJob)) == (4, events, jobs)


def test_a_file_overlapping_an_earlier_one_registers_only_the_new_rows(db: Session) -> None:
    org, signer = importer(db)
    import_batches(db, signer, org, csv_bytes(grid([valid_row(FARM, "F1")], headers(FARM))))
    report = import_batches(
        db, signer, org, csv_bytes(grid([valid_row(FARM, "F1"), valid_row(FARM, "F2")], headers(FARM)))
    )
    assert ([r.lot for r in report.unchanged], [r.lot for r in report.created]) == (["F1"], ["F2"])


def test_a_registered_lot_with_different_declarations_is_refused_naming_the_differences(db: Session) -> None:
    org, signer = importer(db)
    import_batches(db, signer, org, csv_bytes(grid([valid_row(COLD, "BR1")], headers(COLD, "en"))))
    changed = valid_row(COLD, "BR1", quantity=120) | {"origin_country": "AR"}
    with pytest.raises(InvalidInput) as caught:
        import_batches(db, signer, org, csv_bytes(grid([changed], headers(COLD, "en"))))
    [error] = caught.value.context["errors"]
    assert (error["row"], error["column"], error["error"]) == (2, "Lot", "AlreadyExists")
    assert "quantity (ledger 100, file 120)" in error["detail"]
    assert "origin_country (ledger BR, file AR)" in error["detail"]


def test_a_lot_registered_by_another_organisation_is_refused(db: Session) -> None:
    first, signer = importer(db)
    import_batches(db, signer, first, csv_bytes(grid([valid_row(FARM, "F1")], headers(FARM))))
    other, _ = importer(db, n=2, products=False)
    with pytest.raises(InvalidInput) as caught:
        import_batches(db, signer, other, csv_bytes(grid([valid_row(FARM, "F1")], headers(FARM))))
    [error] = caught.value.context["errors"]
    assert (error["row"], error["error"]) == (2, "AlreadyExists")
    assert "already registered by another organisation" in error["detail"]


def bad_cold_chain_sheet() -> bytes:
    """Row 2 is valid; every other row has the problems named in BAD_SHEET_PROBLEMS."""
    future = (TODAY + timedelta(days=5)).isoformat()
    long_ago = (TODAY - timedelta(days=400)).isoformat()
    row = valid_row
    rows: list[Row] = [
        row(COLD, "A1"),
        row(COLD, "A2") | {"gtin": "06970002000016"},
        row(COLD, "A3") | {"gtin": "06970002000091"},
        row(COLD, "A4") | {"quantity": "0", "origin_country": "XX"},
        row(COLD, "A5") | {"quantity": "1.5", "lot": "批号五"},
        row(COLD, "A6") | {"production_date": future},
        row(COLD, "A7") | {"expiry_date": long_ago},
        row(COLD, "A8") | {"quarantine_cert_no": ""},
        row(COLD, "A1"),
        row(COLD, "A10") | {"gtin": GTINS[VACCINE]},
        row(COLD, "A11") | {"expiry_date": "31/12/2026"},
        row(COLD, "A12") | {"nucleic_acid_result": "maybe"},
    ]
    return csv_bytes(grid(rows, headers(COLD, "en")))


BAD_SHEET_PROBLEMS = {
    (3, "GTIN", "InvalidGTIN"),
    (4, "GTIN", "UnknownProduct"),
    (5, "Quantity", "InvalidQuantity"),
    (5, "Origin country", "InvalidInput"),
    (6, "Quantity", "InvalidQuantity"),
    (6, "Lot", "InvalidLot"),
    (7, "Production date", "InvalidInput"),
    (8, "Expiry date", "InvalidInput"),
    (9, "Quarantine certificate No.", "InvalidInput"),
    (10, "Lot", "InvalidInput"),
    (11, "GTIN", "InvalidInput"),
    (12, "Expiry date", "InvalidInput"),
    (13, "Nucleic acid test result", "InvalidInput"),
}


def test_every_problem_of_every_row_is_reported_with_row_and_column_and_nothing_is_written(db: Session) -> None:
    error = refusal(db, bad_cold_chain_sheet())
    assert problems(error) == BAD_SHEET_PROBLEMS
    assert error.detail == "13 problems in 11 of 12 rows; nothing was written"
    details = {(e["row"], e["column"]): e["detail"] for e in error.context["errors"]}
    assert details[(3, "GTIN")] == "GTIN '06970002000016' has check digit 6 but its digits give 5"
    assert details[(4, "GTIN")] == "no product with GTIN 06970002000091 is registered"
    assert details[(10, "Lot")] == f"lot A1 of GTIN {GTINS[COLD]} is already on row 2"
    assert details[(11, "GTIN")].startswith(f"GTIN {GTINS[VACCINE]} is a vaccine product, not a cold_chain one")
    assert count(db, Event) == 0


def test_skip_invalid_registers_the_valid_rows_and_reports_what_was_skipped(db: Session) -> None:
    org, signer = importer(db)
    report = import_batches(db, signer, org, bad_cold_chain_sheet(), skip_invalid=True)
    assert [(r.row, r.lot) for r in report.created] == [(2, "A1")]
    assert report.skipped_rows == list(range(3, 14))
    assert {(e.row, e.column, e.error) for e in report.skipped} == BAD_SHEET_PROBLEMS
    assert report.summary == "1 batches registered, 0 already registered (unchanged), 11 rows skipped for 13 problems"
    assert db.scalars(select(Batch.lot)).all() == ["A1"]


def test_xlsx_with_chinese_headers_in_any_order_below_a_title_row(db: Session) -> None:
    org, signer = importer(db)
    order = ["lot", "expiry_date", "manufacturer", "quantity", "gtin", "lot_release_cert_no", "vaccine_approval_no"]
    rows = [valid_row(VACCINE, "S2026001"), valid_row(VACCINE, "S2026002")]
    cells = grid(rows, headers(VACCINE, "zh"), order=order)
    for line in cells[1:]:  # typed as Excel stores them: numbers and dates, GTIN without its leading zero
        line[1], line[3], line[4] = datetime.fromisoformat(str(line[1])), int(str(line[3])), int(str(line[4]))
    cells.insert(2, [None] * len(order))
    report = import_batches(db, signer, org, xlsx_bytes(cells, title="疫苗批次登记表"))
    assert (report.format, report.flow, report.header_row) == ("xlsx", VACCINE, 2)
    assert [(r.row, r.gtin, r.lot) for r in report.created] == [
        (3, GTINS[VACCINE], "S2026001"),
        (5, GTINS[VACCINE], "S2026002"),
    ]
    assert db.scalars(select(Batch.expiry_date)).all() == [date.fromisoformat(LATER)] * 2


def test_xlsx_problems_carry_the_sheet_row_numbers_and_the_headers_as_written(db: Session) -> None:
    cells = grid([valid_row(FARM, "F1"), valid_row(FARM, "F 2")], headers(FARM, "zh"))
    cells.insert(2, [])
    error = refusal(db, xlsx_bytes(cells, title="农产品进货台账"))
    assert problems(error) == {(5, "批号", "InvalidLot")}


def test_a_long_number_excel_has_rounded_is_refused_not_stored(db: Session) -> None:
    cells = grid([valid_row(COLD, "BR1")], headers(COLD, "zh"))
    cells[1][3] = 310120261000123456.0  # what Excel keeps of a customs number typed into a General cell
    error = refusal(db, xlsx_bytes(cells))
    [problem] = error.context["errors"]
    assert (problem["row"], problem["column"]) == (2, "报关单号")
    assert "format the column as text" in problem["detail"]


def test_a_gbk_customs_broker_export_with_a_title_row_and_chinese_aliases(db: Session) -> None:
    org, signer = importer(db)
    report = import_batches(db, signer, org, DATA.joinpath("cold_chain_customs_export_gbk.csv"))
    assert (report.encoding, report.header_row, report.extra_columns) == ("gbk", 2, ["备注"])
    assert [r.lot for r in report.created] == ["BR2026A01", "AR2026B07", "NZ2026C11"]
    beef = db.scalars(select(Batch).where(Batch.lot == "AR2026B07")).one()
    assert (beef.origin_country, beef.production_date, beef.expiry_date) == ("AR", date(2026, 9, 3), date(2028, 9, 2))


def test_a_utf8_csv_with_a_bom_is_read(db: Session) -> None:
    org, signer = importer(db)
    data = csv_bytes(grid([valid_row(FARM, "F1")], headers(FARM, "zh")), encoding="utf-8-sig")
    report = import_batches(db, signer, org, data)
    assert (report.encoding, len(report.created)) == ("utf-8-sig", 1)
    assert db.scalars(select(Batch.farm_origin)).one() == "嘉兴市南湖区蔬菜基地"


def test_a_csv_in_neither_utf8_nor_gbk_is_refused_naming_the_byte_and_line(db: Session) -> None:
    western = valid_row(COLD, "BR1") | {"nucleic_acid_result": "negative", "disinfection_cert_no": "Certifié"}
    error = refusal(db, csv_bytes(grid([western], headers(COLD, "en")), encoding="cp1252"))
    assert error.detail.startswith("the CSV is neither UTF-8 nor GBK/GB18030: byte 0xE9 on line 2")
    assert error.context == {"line": 2, "byte": "0xE9"}


def test_missing_required_columns_are_all_named_on_the_header_row(db: Session) -> None:
    header = headers(COLD)
    order = [k for k in header if k not in ("origin_country", "disinfection_cert_no")]
    error = refusal(db, csv_bytes(grid([valid_row(COLD, "BR1")], header, order=order)))
    assert problems(error) == {
        (1, "*原产国 (origin_country)", "InvalidInput"),
        (1, "*消毒证明编号 (disinfection_cert_no)", "InvalidInput"),
    }
    assert error.detail == "the header row (row 1) cannot be used; nothing was written"


def test_extra_columns_are_reported_and_ignored(db: Session) -> None:
    org, signer = importer(db)
    header = headers(COLD) | {"remark": "备注", "harvest_date": "采收日期"}
    rows = [valid_row(COLD, "BR1") | {"remark": "整柜", "harvest_date": PAST}]
    report = import_batches(db, signer, org, csv_bytes(grid(rows, header)))
    assert (report.extra_columns, len(report.created)) == (["备注", "采收日期"], 1)
    assert db.scalars(select(Batch.harvest_date)).one() is None


def test_a_repeated_column_is_refused(db: Session) -> None:
    header = headers(FARM)
    cells = grid([valid_row(FARM, "F1")], header)
    cells[0].append("Lot")
    cells[1].append("F1")
    assert problems(refusal(db, csv_bytes(cells))) == {(1, "Lot", "InvalidInput")}


def test_repeated_lots_that_disagree_are_refused_on_every_row(db: Session) -> None:
    rows = [valid_row(FARM, "F1", quantity=10), valid_row(FARM, "F2"), valid_row(FARM, "F1", quantity=20)]
    error = refusal(db, csv_bytes(grid(rows, headers(FARM, "en"))))
    assert problems(error) == {(2, "Lot", "InvalidInput"), (4, "Lot", "InvalidInput")}
    # The importer that owns the products again: only a GTIN's owner registers batches under it.
    org, signer = db.scalars(select(Organisation)).one(), make_signer()
    skipped = import_batches(db, signer, org, csv_bytes(grid(rows, headers(FARM, "en"))), skip_invalid=True)
    assert ([r.lot for r in skipped.created], skipped.skipped_rows) == (["F2"], [2, 4])


def test_the_flow_is_told_by_the_headers_or_asked_for(db: Session) -> None:
    common_only = csv_bytes([["GTIN", "Lot", "Quantity"], [GTINS[COLD], "L1", "5"]])
    error = refusal(db, common_only)
    assert error.detail.startswith("cannot tell from the headers which template this file follows")
    org, signer = importer(db, n=2, products=False)
    with pytest.raises(InvalidInput) as caught:
        import_batches(db, signer, org, common_only, flow="vaccine")
    assert {e["column"] for e in caught.value.context["errors"]} == {
        "*批准文号 (vaccine_approval_no)",
        "*批签发证明编号 (lot_release_cert_no)",
        "*生产企业 (manufacturer)",
        "*有效期至 (expiry_date)",
    }
    with pytest.raises(InvalidInput, match="unknown flow 'seafood'"):
        import_batches(db, signer, org, common_only, flow="seafood")


def test_only_a_producer_registers_batches(db: Session) -> None:
    org, signer = importer(db, roles=[Role.DISTRIBUTOR])
    with pytest.raises(RoleRequired):
        import_batches(db, signer, org, csv_bytes(grid([valid_row(FARM, "F1")], headers(FARM))))


def test_files_over_the_row_or_byte_limit_are_refused_before_any_check(db: Session) -> None:
    org, signer = importer(db)
    data = csv_bytes(grid([valid_row(FARM, f"F{i}") for i in range(4)], headers(FARM)))
    with pytest.raises(PayloadTooLarge, match="more than 3 rows"):
        import_batches(db, signer, org, data, limits=ImportLimits(max_rows=3))
    with pytest.raises(PayloadTooLarge, match="the file is larger than the limit of 100 bytes"):
        import_batches(db, signer, org, data, limits=ImportLimits(max_bytes=100))
    assert count(db, Batch) == 0


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), UnsupportedMediaType, "Excel 97-2003"),
        (b"PK\x03\x04 not really a zip", UnsupportedMediaType, "not a readable XLSX workbook"),
        ("商品条码,批号".encode("utf-16-le"), InvalidInput, "NUL bytes"),
        (b"  \r\n", InvalidInput, "the file is empty"),
        (b"name,price\r\napples,3\r\n", InvalidInput, "no header row in the first 10 rows"),
    ],
)
def test_files_that_are_not_sheets_are_refused_clearly(
    db: Session, content: bytes, error: type[LotlineError], message: str
) -> None:
    org, signer = importer(db)
    with pytest.raises(error, match=message):
        import_batches(db, signer, org, content)


@pytest.mark.parametrize("flow", list(Category))
@pytest.mark.parametrize("render", [template_csv, template_xlsx])
def test_a_downloaded_template_reads_back_as_its_flow_with_no_rows(db: Session, flow: Category, render: object) -> None:
    org, signer = importer(db)
    report = import_batches(db, signer, org, render(flow))  # type: ignore[operator]
    assert (report.flow, report.rows, report.extra_columns, report.created) == (flow, 0, [], [])


def test_every_template_requires_what_the_ledger_requires() -> None:
    for flow, template in TEMPLATES.items():
        assert set(REQUIRED_BY_CATEGORY[flow]) | {"gtin", "lot", "quantity"} == set(template.required)
        assert template.required <= {c.key for c in template.columns}


def test_no_header_names_two_fields() -> None:
    names: dict[str, set[str]] = {}
    for template in TEMPLATES.values():
        for c in template.columns:
            for alias in (c.key, c.zh, c.en, *c.aliases):
                names.setdefault(normalize_header(alias), set()).add(c.key)
    assert {alias: keys for alias, keys in names.items() if len(keys) > 1} == {}
    assert match_header("*原产国（地区）") == match_header("Origin Country") == "origin_country"


QUANTITY = TEMPLATES[COLD].column("quantity")
DATE = TEMPLATES[COLD].column("production_date")


@pytest.mark.parametrize(
    ("raw", "expected"), [("1200", 1200), ("1,200", 1200), ("1200.0", 1200), (1200.0, 1200), (" 7 ", 7)]
)
def test_quantities_are_read_as_whole_numbers(raw: object, expected: int) -> None:
    assert QUANTITY.kind is Kind.QUANTITY
    assert parse_cell(raw, QUANTITY) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["0", "-3", "1.5", 1.5, "12 boxes", "1,20", True])
def test_quantities_that_are_not_positive_whole_numbers_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        parse_cell(raw, QUANTITY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "2026-09-01",
        "2026/9/1",
        "2026.09.01",
        "20260901",
        "2026年9月1日",
        "2026-09-01 00:00:00",
        20260901,
        datetime(2026, 9, 1),
    ],
)
def test_dates_are_read_in_the_forms_chinese_sheets_use(raw: object) -> None:
    assert parse_cell(raw, DATE) == date(2026, 9, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["01/09/2026", "2026-13-01", "next week", "2026-09-01 08:30:00"])
def test_ambiguous_or_impossible_dates_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="is not a date: write it as YYYY-MM-DD"):
        parse_cell(raw, DATE)


def test_the_cli_import_commits_and_prints_the_outcome(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with session_factory() as db:
        org, _signer = importer(db)
        db.commit()
    sheet = tmp_path / "farm.csv"
    sheet.write_bytes(csv_bytes(grid([valid_row(FARM, "F1"), valid_row(FARM, "F2")], headers(FARM, "zh")), "gbk"))
    out = io.StringIO()
    report = run_import(database_url, sheet, org.uscc, settings=CLI_SETTINGS, console=Console(file=out, width=200))
    assert len(report.created) == 2
    assert "2 batches registered, 0 already registered (unchanged)" in out.getvalue()
    with session_factory() as db:
        assert sorted(db.scalars(select(Batch.lot))) == ["F1", "F2"]


def test_the_cli_import_prints_every_problem_and_writes_nothing(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with session_factory() as db:
        org, _signer = importer(db)
        db.commit()
    sheet = tmp_path / "cold.csv"
    sheet.write_bytes(bad_cold_chain_sheet())
    out = io.StringIO()
    with pytest.raises(InvalidInput):
        run_import(database_url, sheet, org.uscc, settings=CLI_SETTINGS, console=Console(file=out, width=300))
    printed = out.getvalue()
    assert "13 problems in 11 of 12 rows; nothing was written" in printed
    assert "no product with GTIN 06970002000091 is registered" in printed
    with session_factory() as db:
        assert count(db, Batch) == 0


@pytest.mark.slow
def test_ten_thousand_rows_register_with_progress(db: Session, capsys: pytest.CaptureFixture[str]) -> None:
    org, signer = importer(db)
    rows = [valid_row(COLD, f"BIG{i:05d}", quantity=1 + i % 50) for i in range(10_000)]
    data = csv_bytes(grid(rows, headers(COLD)))
    calls: list[tuple[str, int, int]] = []
    marks: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())
        calls.append((phase, done, total))

    start = time.perf_counter()
    report = import_batches(db, signer, org, data, progress=progress)
    elapsed = time.perf_counter() - start
    assert len(report.created) == count(db, Batch) == count(db, Event) == 10_000
    checking = [done for phase, done, total in calls if phase == "checking" and total == 10_000]
    registering = [done for phase, done, total in calls if phase == "registering" and total == 10_000]
    assert checking == registering == list(range(1, 10_001))
    with capsys.disabled():
        checked = marks["registering"] - start
        print(f"\n10,000-row import ({db.get_bind().dialect.name}): {elapsed:.1f} s total, {checked:.1f} s checking, "
              f"{(elapsed - checked) / 10:.1f} ms per registered batch")  # fmt: skip
