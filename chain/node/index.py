"""SQL tables beside the key-value store: receipts, logs, the allowlist and node metadata.

py-evm keeps receipts in per-block tries, so answering ``eth_getLogs`` from them means decoding every block in
the range. The sealer writes one row per transaction and per log here, in the same SQLite transaction as the
block itself, so the index is never ahead of or behind the chain.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, ReceiptAPI
from eth_typing import Address

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS allowlist (address TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY, block_number INTEGER NOT NULL, block_hash BLOB NOT NULL, tx_index INTEGER NOT NULL,
    sender BLOB NOT NULL, recipient BLOB, contract_address BLOB, gas_used INTEGER NOT NULL,
    cumulative_gas_used INTEGER NOT NULL, status INTEGER NOT NULL, effective_gas_price INTEGER NOT NULL,
    type INTEGER NOT NULL, bloom BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_by_block ON txs (block_number, tx_index);
CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, block_hash BLOB NOT NULL,
    tx_index INTEGER NOT NULL, tx_hash BLOB NOT NULL, address BLOB NOT NULL,
    topic0 BLOB, topic1 BLOB, topic2 BLOB, topic3 BLOB, data BLOB NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_address ON logs (address, block_number);
CREATE INDEX IF NOT EXISTS logs_by_topic0 ON logs (topic0, block_number);
CREATE INDEX IF NOT EXISTS logs_by_tx ON logs (tx_hash);
"""

MAX_TOPICS = 4
LOG_COLUMNS = "block_number, log_index, block_hash, tx_index, tx_hash, address, topic0, topic1, topic2, topic3, data"


@dataclass(frozen=True)
class TxRecord:
    """One mined transaction as ``eth_getTransactionReceipt`` needs it."""

    hash: bytes
    block_number: int
    block_hash: bytes
    tx_index: int
    sender: bytes
    recipient: bytes | None
    contract_address: bytes | None
    gas_used: int
    cumulative_gas_used: int
    status: int
    effective_gas_price: int
    type: int
    bloom: bytes


LogRow = tuple[int, int, bytes, int, bytes, bytes, bytes | None, bytes | None, bytes | None, bytes | None, bytes]


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def load_allowlist(conn: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT address FROM allowlist")}


def add_to_allowlist(conn: sqlite3.Connection, addresses: Sequence[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO allowlist (address) VALUES (?)", [(a,) for a in addresses])


def remove_from_allowlist(conn: sqlite3.Connection, addresses: Sequence[str]) -> None:
    conn.executemany("DELETE FROM allowlist WHERE address = ?", [(a,) for a in addresses])


def record_block(
    conn: sqlite3.Connection, block: BlockAPI, receipts: Sequence[ReceiptAPI], senders: Sequence[Address]
) -> None:
    """Index the transactions and logs of a block that is being persisted in the same transaction."""
    header = block.header
    tx_rows = []
    log_rows: list[LogRow] = []
    previous_cumulative = 0
    for index, (tx, receipt, sender) in enumerate(zip(block.transactions, receipts, senders, strict=True)):
        created = generate_contract_address(sender, tx.nonce) if not tx.to else None
        status = 1 if receipt.state_root == b"\x01" else 0
        price = min(tx.max_fee_per_gas, (header.base_fee_per_gas or 0) + tx.max_priority_fee_per_gas)
        tx_type = tx.type_id if tx.type_id is not None else 0
        gas_used = receipt.gas_used - previous_cumulative
        previous_cumulative = receipt.gas_used
        tx_rows.append(
            (tx.hash, header.block_number, header.hash, index, sender, tx.to or None,
             created if status else None, gas_used, receipt.gas_used, status, price, tx_type,
             receipt.bloom.to_bytes(256, "big"))
        )  # fmt: skip
        for log in receipt.logs:
            topics: list[bytes | None] = [t.to_bytes(32, "big") for t in log.topics]
            topics += [None] * (MAX_TOPICS - len(topics))
            log_rows.append(
                (header.block_number, len(log_rows), header.hash, index, tx.hash, log.address,
                 topics[0], topics[1], topics[2], topics[3], log.data)
            )  # fmt: skip
    conn.executemany("INSERT OR REPLACE INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tx_rows)
    conn.executemany(
        f"INSERT OR REPLACE INTO logs ({LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        log_rows,
    )


def get_tx(conn: sqlite3.Connection, tx_hash: bytes) -> TxRecord | None:
    row = conn.execute("SELECT * FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
    return None if row is None else TxRecord(*row)


def senders_of_block(conn: sqlite3.Connection, block_number: int) -> list[bytes]:
    rows = conn.execute("SELECT sender FROM txs WHERE block_number = ? ORDER BY tx_index", (block_number,))
    return [bytes(row[0]) for row in rows]


def logs_of_tx(conn: sqlite3.Connection, tx_hash: bytes) -> list[LogRow]:
    sql = f"SELECT {LOG_COLUMNS} FROM logs WHERE tx_hash = ? ORDER BY log_index"  # noqa: S608 (constant columns)
    rows = conn.execute(sql, (tx_hash,))
    return [tuple(row) for row in rows]


def query_logs(
    conn: sqlite3.Connection,
    from_block: int,
    to_block: int,
    addresses: Sequence[bytes],
    topics: Sequence[Sequence[bytes] | None],
    limit: int,
) -> list[LogRow]:
    """Logs in ``[from_block, to_block]`` matching the address set and the per-position topic sets.

    An empty address list or a ``None`` topic position matches anything, as in ``eth_getLogs``.
    """
    clauses = ["block_number BETWEEN ? AND ?"]
    args: list[object] = [from_block, to_block]
    if addresses:
        clauses.append(f"address IN ({', '.join('?' * len(addresses))})")
        args += addresses
    for position, wanted in enumerate(topics[:MAX_TOPICS]):
        if wanted:
            clauses.append(f"topic{position} IN ({', '.join('?' * len(wanted))})")
            args += wanted
    # Only constant column names and "?" placeholders are formatted in; every value is a bound parameter.
    where = " AND ".join(clauses)
    sql = f"SELECT {LOG_COLUMNS} FROM logs WHERE {where} ORDER BY block_number, log_index LIMIT ?"  # noqa: S608
    return [tuple(row) for row in conn.execute(sql, [*args, limit])]
