"""Bulk writes of a generated network: plain multi-row inserts on SQLite, ``COPY`` on PostgreSQL.

The generator owns the ids (it writes into tables it checked were empty), so rows go in as tuples with no
``RETURNING`` and no ORM: SQLite takes them through ``executemany`` on the driver, PostgreSQL through psycopg's
``COPY … FROM STDIN``, several times faster than batched ``INSERT`` there. Timestamps are produced in each driver's
own form (see :meth:`Writer.stamp`): the SQLite text SQLAlchemy itself writes for ``UTCDateTime``, or aware
datetimes for psycopg. Small tables (organisations, products, batches, chain jobs) use SQLAlchemy Core inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from importers.generate.events import EPOCH
from ledger.models import Base

Row = tuple[Any, ...]

EVENTS: Final = ("events", ("seq", "event_id", "event_type", "action", "biz_step", "disposition", "event_time",
                            "org_id", "location_id", "document", "signer", "nonce", "deadline", "signature",
                            "recorded_at"))  # fmt: skip
EVENT_BATCHES: Final = ("event_batches", ("batch_id", "position", "event_seq", "head"))
EVENT_EPCS: Final = ("event_epcs", ("epc", "event_seq", "role"))
OUTBOX: Final = ("outbox", ("id", "event_seq", "created_at"))
SHIPMENTS: Final = ("shipments", ("id", "event_seq", "from_org_id", "to_org_id", "status", "created_at"))
SHIPMENT_LINES: Final = ("shipment_lines", ("shipment_id", "batch_id", "quantity", "received_quantity"))
MOVEMENTS: Final = ("movements", ("id", "event_seq", "batch_id", "kind", "from_org_id", "to_org_id", "quantity",
                                  "shipment_id"))  # fmt: skip
TRANSFORMATIONS: Final = ("transformations", ("id", "event_seq", "org_id", "input_batch_id", "output_batch_id",
                                              "input_quantity"))  # fmt: skip
HOLDINGS: Final = ("holdings", ("org_id", "batch_id", "on_hand", "received", "shipped", "consumed", "destroyed",
                                "transformed", "updated_at"))  # fmt: skip
CODES: Final = ("codes", ("id", "kind", "batch_id", "serial", "sscc", "parent_id", "status", "holder_org_id",
                          "shipment_id", "issued_by_org_id", "signature", "created_at", "consumed_at"))  # fmt: skip
# Tables whose integer key the generator assigned; PostgreSQL's sequences are moved past them afterwards.
_SERIAL_KEYS: Final = (("organisations", "id"), ("locations", "id"), ("products", "id"), ("batches", "id"),
                       ("events", "seq"), ("outbox", "id"), ("shipments", "id"), ("movements", "id"),
                       ("transformations", "id"), ("codes", "id"), ("holds", "id"), ("chain_jobs", "id"))  # fmt: skip
TRADE_TABLES: Final = ("events", "products", "batches", "codes", "movements", "shipments")
"""Tables that must be empty before a network is generated into a database."""


class Writer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def stamp(self, t_ms: int) -> Any:
        moment = EPOCH + timedelta(milliseconds=t_ms)
        return moment if self.postgres else f"{moment:%Y-%m-%d %H:%M:%S.%f}"

    def prepare(self, conn: Connection) -> None:
        """Per-connection settings for a long bulk load."""
        if not self.postgres:
            # The default page cache (2 MB) makes every insert into the random-order event_id index a disk read
            # once the index outgrows it; 256 MB keeps a million-event index in memory.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")

    def rows(self, conn: Connection, target: tuple[str, tuple[str, ...]], rows: Sequence[Row]) -> None:
        if not rows:
            return
        table, columns = target
        names = ", ".join(columns)
        if self.postgres:
            raw = conn.connection.driver_connection
            assert raw is not None
            copy_sql = f"COPY {table} ({names}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            insert_sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - table and columns are ours
            conn.exec_driver_sql(insert_sql, list(rows))

    @staticmethod
    def core(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(insert(table), list(rows))

    def update(self, conn: Connection, table: str, key: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
        """Set ``columns`` of the rows whose ``key`` is each row's first value."""
        if not rows:
            return
        if self.postgres:
            # COPY into a temporary table and one UPDATE … FROM: executemany would be a round trip per row.
            scratch = ", ".join(f"{c} text" for c in (key, *columns))
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE generate_update ({scratch})")
            self.rows(conn, ("generate_update", (key, *columns)), rows)
            target = Base.metadata.tables[table]
            assignments = ", ".join(f"{c} = CAST(u.{c} AS {target.c[c].type.compile(conn.dialect)})" for c in columns)
            conn.exec_driver_sql(
                f"UPDATE {table} SET {assignments} FROM generate_update u "  # noqa: S608 - names are ours
                f"WHERE {table}.{key} = CAST(u.{key} AS bigint)"
            )
            conn.exec_driver_sql("DROP TABLE generate_update")
        else:
            assignments = ", ".join(f"{c} = ?" for c in columns)
            update_sql = f"UPDATE {table} SET {assignments} WHERE {key} = ?"  # noqa: S608 - names are ours
            conn.exec_driver_sql(update_sql, [(*row[1:], row[0]) for row in rows])

    def finish(self, conn: Connection) -> None:
        if self.postgres:
            for table, key in _SERIAL_KEYS:
                highest = f"(SELECT MAX({key}) FROM {table})"  # noqa: S608 - names are ours
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :k), {highest})"), {"t": table, "k": key})
        conn.exec_driver_sql("ANALYZE")

    @staticmethod
    def next_id(conn: Connection, table: str, key: str = "id") -> int:
        column = Base.metadata.tables[table].c[key]
        return int(conn.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1

    @staticmethod
    def has_rows(conn: Connection, table: str) -> bool:
        return conn.execute(select(text("1")).select_from(Base.metadata.tables[table]).limit(1)).first() is not None
