"""Time to issue N item codes (default 1,000,000) for one batch, the way a large code run is issued by the worker:
``ledger.codes.continue_run`` in committed chunks — CSPRNG serials, the issuer's signature on every code (process
pool), commissioning events of 10,000 EPCs each (hashed, signed, chained) and the bulk insert.

    .venv/bin/python bench/bench_issue_codes.py [--codes 1000000] [--database-url URL]

Prints the wall-clock time, codes/s and the machine's load average (the figure is only meaningful on a quiet
machine). Uses a scratch SQLite file unless a database URL is given.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ledger.codes import continue_run, start_run
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.migrate import upgrade_to_head
from ledger.models import Category, Role
from ledger.recorder import Signer
from ledger.registry import BatchAttributes, create_organisation, create_product, register_batch
from ledger.signing import SigningDomain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lotline-codes-"))
    url = args.database_url or f"sqlite:///{scratch / 'ledger.sqlite'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    signer = Signer(vault=KeyVault("bench-secret"), domain=SigningDomain(chain_id=20260))
    with session_scope(sessions) as session:
        org, _token = create_organisation(
            session, signer.vault, name="疫苗生产企业", uscc=make_uscc("91330100MA2B00001"), roles=[Role.PRODUCER]
        )
        product = create_product(session, org, name="疫苗", category=Category.VACCINE, company_prefix="6970009")
        attrs = BatchAttributes(
            vaccine_approval_no="国药准字S1",
            lot_release_cert_no="SJ1",
            manufacturer=org.name,
            expiry_date=date.today() + timedelta(days=365),
        )
        batch = register_batch(session, signer, org, gtin=product.gtin, lot="BENCH-1", quantity=args.codes, attrs=attrs)
        run = start_run(session, org, batch.id, args.codes)
        run_id = run.id
    started = time.perf_counter()
    finished = continue_run(sessions, signer, run_id)
    elapsed = time.perf_counter() - started
    assert finished is not None
    assert finished.issued == args.codes
    load = os.getloadavg()[0]
    print(f"issued {finished.issued:,} signed codes in {elapsed:.1f} s ({finished.issued / elapsed:,.0f} codes/s)")
    print(f"database {url.split('@')[-1]}, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"command: .venv/bin/python bench/bench_issue_codes.py --codes {args.codes}")
    engine.dispose()


if __name__ == "__main__":
    main()
