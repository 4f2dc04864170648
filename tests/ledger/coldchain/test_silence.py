"""A gateway's logger gone silent while its goods are on the way is an ongoing data gap, ended when it posts again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ledger.coldchain.ingest import Source, ingest
from ledger.coldchain.readings import Reading, Scope, prepare_series
from ledger.coldchain.silence import check_silent_loggers
from ledger.models import ExcursionKind, IngestKind, LogScope, Organisation
from tests.ledger.coldchain.test_excursions import MINUTE, T0, readings, receive, ship, upload, vaccine
from tests.ledger.network import Network, build_network


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


def post(db: Session, net: Network, org: Organisation, scope: Scope, rows: list[Reading]) -> None:
    series, _ = prepare_series("GW-7/T1", rows)
    ingest(db, net.signer, org, scope, series, source=Source(IngestKind.GATEWAY, repr(rows).encode()))


def test_a_silent_gateway_logger_is_an_ongoing_gap_until_it_posts_again(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    scope = Scope(LogScope.SHIPMENT, shipment.id)
    post(db, net, net.importer, scope, readings((0, 60, 5.0)))
    assert check_silent_loggers(db, T0 + 60 * MINUTE) == []  # five minutes since the last reading: on time
    [silence] = check_silent_loggers(db, T0 + 120 * MINUTE)
    assert (silence.kind, silence.started_at, silence.ended_at) == (ExcursionKind.DATA_GAP, T0 + 55 * MINUTE, None)
    assert check_silent_loggers(db, T0 + 180 * MINUTE) == []  # the same silence, not a new one
    assert silence.duration_s == 125 * 60
    post(db, net, net.importer, scope, readings((150, 200, 5.0)))
    assert (silence.ended_at, silence.duration_s) == (T0 + 150 * MINUTE, 95 * 60)


def test_files_and_received_shipments_are_not_watched_for_silence(db: Session, net: Network) -> None:
    by_file = ship(db, net, vaccine(net, 10), net.clinic)
    upload(db, net, net.importer, Scope(LogScope.SHIPMENT, by_file.id), readings((0, 60, 5.0)))
    arrived = ship(db, net, vaccine(net, 11), net.clinic)
    post(db, net, net.importer, Scope(LogScope.SHIPMENT, arrived.id), readings((0, 60, 5.0)))
    receive(db, net, net.clinic, arrived, T0 + 60 * MINUTE)
    assert check_silent_loggers(db, T0 + 600 * MINUTE) == []
