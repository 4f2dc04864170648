"""Cold chain: temperature readings ingested per second, and the excursion rules over a million readings.

    .venv/bin/python bench/bench_coldchain.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/x]
                                              [--readings 1000000] [--files 5]

Ingest: ``--files`` logger CSV exports (GBK, Chinese headers, one reading a minute, a few warm spells) of
``--readings`` readings in all, each read (``importers.loggers``), stored and judged (``ledger.coldchain.ingest``:
its anchoring event, ``COPY`` or ``executemany`` skipping stored instants, the saved evaluations fed) and committed,
into one shipment's log, beside the bare work of writing the same rows: one ``executemany`` (SQLite) or one ``COPY``
(PostgreSQL) into the readings table, no parsing, no duplicate check, no rules. Rules: the whole log judged again
from the ledger (loaded, then every profile's rules from the first reading) beside a bare select of the same rows,
and the engine alone in memory on 1M readings: a realistic series, and one where every reading is out of range.

On PostgreSQL the URL names the server: a scratch database ``lotline_bench_<random>`` is created there and dropped.
By default a scratch SQLite file is used. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from importers.loggers import CHINA, read_logger_file
from ledger import trade
from ledger.coldchain import profiles
from ledger.coldchain.engine import evaluate
from ledger.coldchain.evaluation import evaluate_log
from ledger.coldchain.ingest import Source, ingest
from ledger.coldchain.readings import Reading, Scope, load, prepare_series
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.goods import BatchLine, Goods
from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.migrate import upgrade_to_head
from ledger.models import Category, IngestKind, LogScope, Organisation, ReadingIngest, Role, Shipment, TemperatureLog
from ledger.recorder import Signer
from ledger.registry import BatchAttributes, create_organisation, create_product, register_batch
from ledger.signing import SigningDomain

START = datetime(2026, 11, 1, tzinfo=UTC)
SIGNER = Signer(vault=KeyVault("bench-secret-not-for-production"), domain=SigningDomain(chain_id=20260))


@contextlib.contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'coldchain.sqlite'}"
        return
    server = make_url(url)
    if server.host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark only talks to 127.0.0.1")
    name = f"lotline_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(
        server.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def shipment_of_vaccines(session: Session) -> int:
    """A manufacturer, a clinic, a 2-8 °C vaccine batch and a shipment of it: the scope every reading is for."""
    maker, _ = create_organisation(
        session, SIGNER.vault, name="疫苗生产企业", uscc=make_uscc("91330100MA2000001"), roles=[Role.PRODUCER]
    )
    clinic, _ = create_organisation(
        session, SIGNER.vault, name="接种门诊", uscc=make_uscc("91330100MA2000002"), roles=[Role.VACCINATOR]
    )
    product = create_product(
        session,
        maker,
        name="流感疫苗",
        category=Category.VACCINE,
        company_prefix="6970001",
        storage_min_c=2,
        storage_max_c=8,
    )
    attrs = BatchAttributes(
        vaccine_approval_no="国药准字S20260001",
        lot_release_cert_no="SJ20261234",
        manufacturer="某生物制品有限公司",
        expiry_date=date(2028, 1, 1),
    )
    batch = register_batch(session, SIGNER, maker, gtin=product.gtin, lot="BENCH-01", quantity=1000, attrs=attrs)
    goods = Goods(lines=(BatchLine(product.gtin, batch.lot, 500),))
    _, shipment = trade.ship(session, SIGNER, trade.ScanContext(maker, event_time=START), goods, to_org_id=clinic.id)
    return shipment.id


def temperatures(count: int, seed: int) -> list[float]:
    """5 ± 1 °C, with a warm spell of 10 to 90 minutes about every two days."""
    rng = random.Random(seed)
    values = [round(5 + rng.uniform(-1, 1), 1) for _ in range(count)]
    for start in range(0, count, 2880):
        spell = start + rng.randrange(0, 2000)
        for i in range(spell, min(count, spell + rng.randrange(10, 90))):
            values[i] = round(9 + rng.uniform(0, 4), 1)
    return values


def logger_file(first_minute: int, values: list[float]) -> bytes:
    """A logger's export: a note naming the device, then numbered readings in China's local time."""
    lines = ["精创温度记录仪", "设备编号：RC5-BENCH", "序号,时间,温度(℃)"]
    local = START.astimezone(CHINA)
    for i, value in enumerate(values):
        moment = local + timedelta(minutes=first_minute + i)
        lines.append(f"{first_minute + i + 1},{moment:%Y/%m/%d %H:%M:%S},{value}")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


@dataclass
class Spent:
    """Wall time and this process's CPU time over some work: on a shared machine the CPU time is the steadier
    figure (on PostgreSQL it leaves out the server's)."""

    wall: float = 0.0
    cpu: float = 0.0

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu

    def rate(self, label: str, count: int) -> str:
        return (
            f"  {label:<38} {count / self.wall:>10,.0f} readings/s   ({self.wall:.2f} s;"
            f" {count / self.cpu:,.0f}/s of this process's CPU)"
        )

    def seconds(self, label: str) -> str:
        return f"  {label:<40} {self.wall:>8.2f} s            (CPU {self.cpu:.2f} s)"


def bench_ingest(factory: Any, shipment_id: int, readings: int, files: int) -> None:
    per_file = readings // files
    values = temperatures(per_file * files, seed=1)
    contents = [logger_file(n * per_file, values[n * per_file : (n + 1) * per_file]) for n in range(files)]
    reading, storing = Spent(), Spent()
    excursions = 0
    for content in contents:
        with reading.counting():
            [device] = read_logger_file(content).series
            rows = [Reading(t, v) for t, v in zip(device.times_ms, device.values_c, strict=True)]
            series, _ = prepare_series(device.device_id, rows)
        scope = Scope(LogScope.SHIPMENT, shipment_id)
        source = Source(IngestKind.FILE, content, "rc5.csv", "text/csv")
        with storing.counting(), session_scope(factory) as session:  # the commit included
            done = ingest(session, SIGNER, _org(session, shipment_id), scope, series, source=source)
            excursions += len(done.outcome.new)
    total = per_file * files
    both = Spent(reading.wall + storing.wall, reading.cpu + storing.cpu)
    print(f"  {files} logger files of {per_file:,} readings ({total:,} in all, {excursions} excursions found)")
    print(reading.rate("read (CSV, GBK, Chinese headers)", total))
    print(storing.rate("stored, anchored, judged, committed", total))
    print(both.rate("end to end", total))


def _org(session: Session, shipment_id: int) -> Organisation:
    shipment = session.get(Shipment, shipment_id)
    assert shipment is not None
    org = session.get(Organisation, shipment.from_org_id)
    assert org is not None
    return org


def bench_bare_write(factory: Any, engine: Any, readings: int) -> None:
    """The same number of rows written the plainest way the driver has, into the same table (another log)."""
    values = temperatures(readings, seed=1)
    with session_scope(factory) as session:
        log = session.scalars(select(TemperatureLog)).first()
        assert log is not None
        bare = TemperatureLog(
            org_id=log.org_id,
            device_id="bare",
            scope=log.scope,
            scope_key=log.scope_key,
            shipment_id=log.shipment_id,
            holder_org_id=log.holder_org_id,
            interval_s=60,
            reading_count=0,
        )
        session.add(bare)
        session.flush()
        bare_log, ingest_id = bare.id, session.scalar(select(ReadingIngest.id))
    base = int(START.timestamp() * 1000)
    rows = [(bare_log, base + i * 60_000, v, None, None, ingest_id) for i, v in enumerate(values)]
    spent = Spent()
    with spent.counting(), engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(
                "COPY temperature_readings (log_id, taken_ms, value_c, min_c, max_c, ingest_id) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            how = "one COPY"
        else:
            cursor.executemany("INSERT INTO temperature_readings VALUES (?, ?, ?, ?, ?, ?)", rows)
            how = "one executemany"
    print(spent.rate(f"bare: {how}, committed", readings))


def bench_rules(factory: Any, engine: Any, readings: int) -> None:
    loading, judging, bare = Spent(), Spent(), Spent()
    with session_scope(factory) as session:
        log = session.scalars(select(TemperatureLog).where(TemperatureLog.device_id == "RC5-BENCH")).one()
        log_id = log.id
        with loading.counting():
            series = load(session, log_id)
        with judging.counting():
            outcome = evaluate_log(session, log, appended=None, evidence_seq=_any_event(session))
        session.rollback()
    with bare.counting(), engine.connect() as conn:
        query = text("SELECT taken_ms, value_c FROM temperature_readings WHERE log_id = :id ORDER BY taken_ms")
        conn.execute(query, {"id": log_id}).all()
    again = len(outcome.updated)
    print(f"  the log judged again from its first reading ({len(series[0]):,} readings, {again} excursions)")
    print(loading.seconds("loaded"))
    print(bare.seconds("bare select of the same rows"))
    print(judging.seconds("loaded and judged"))
    vaccine = profiles.vaccine(freeze_sensitive=False)
    times = [i * 60_000 for i in range(readings)]
    values, hot = temperatures(readings, seed=2), [12.0] * readings
    for label, lows in (("realistic", values), ("every reading out of range", hot)):
        engine_alone = Spent()
        with engine_alone.counting():
            found = evaluate(vaccine, 360_000, times, lows, lows)
        print(engine_alone.seconds(f"engine alone, {label}") + f"   {len(found)} excursion(s)")


def _any_event(session: Session) -> int:
    seq = session.execute(text("SELECT max(seq) FROM events")).scalar()
    assert isinstance(seq, int)
    return seq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server on 127.0.0.1 (default: scratch SQLite)")
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=5)
    args = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", *sys.argv]))
    with scratch_database(args.database_url) as url:
        upgrade_to_head(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            shipment_id = shipment_of_vaccines(session)
        print(f"ledger: {engine.dialect.name}")
        print("ingest")
        bench_ingest(factory, shipment_id, args.readings, args.files)
        bench_bare_write(factory, engine, args.readings)
        print("rules")
        bench_rules(factory, engine, args.readings)
        engine.dispose()
    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
