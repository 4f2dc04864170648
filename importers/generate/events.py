"""EPCIS documents of a synthetic network, hashed and signed in worker processes.

The simulation (``flows``) describes each event as a compact, picklable spec; the workers turn specs into the very
documents the live services write (the ``ledger.epcis_events`` builders that ``ledger.registry``, ``ledger.codes``,
``ledger.trade`` and ``ledger.packing`` use, goods named by the same ``ledger.terms``), compute the CBV 2.0 hash
and the organisation's EIP-712 signature, and return what the ``events`` row stores. Hashing and signing are ~90% of the
generator's CPU, so they run on every core while the main process simulates and writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from ledger import epcis_events, terms
from ledger.code_signing import CodeSigner
from ledger.epc_index import named_epcs
from ledger.event_hash import event_hash, hash_digest
from ledger.identifiers import DigitalLink
from ledger.policy import TradeAction
from ledger.signing import EventSigner, SigningDomain

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# Spec kinds. Each matches one ledger service whose document it reproduces.
COMMISSION: Final = "commission"  # registry.register_batch
CODES: Final = "codes"  # codes.issue_item_codes
SHIP: Final = "ship"  # trade.ship
RECEIVE: Final = "receive"  # trade.receive
SELL: Final = "sell"  # trade.sell
ADMINISTER: Final = "administer"  # trade.administer
DESTROY: Final = "destroy"  # trade.destroy
INSPECT: Final = "inspect"  # trade.inspect
TRANSFORM: Final = "transform"  # packing.transform
PACK: Final = "pack"  # packing.pack
UNPACK: Final = "unpack"  # packing.unpack

Line = tuple[str, str, int, str]
"""A batch quantity: GTIN, lot, quantity, unit."""


@dataclass(frozen=True, slots=True)
class GoodsSpec:
    """What an event names, in the order the live services list it: top-level codes, then batch quantities."""

    lines: tuple[Line, ...] = ()
    ssccs: tuple[str, ...] = ()
    item_gtin: str = ""
    item_serials: tuple[str, ...] = ()
    contents: tuple[Line, ...] = ()  # what the SSCCs hold, per lot (listed after the lines, as trade.quantities_of)


Spec = tuple[str, int, int, int, tuple[Any, ...]]
"""(kind, organisation index, nonce, event time in ms since the epoch, kind-specific arguments)."""


@dataclass(frozen=True, slots=True)
class Signed:
    event_id: str
    digest: bytes
    signature: str
    document: str  # the stored JSON text, eventID included
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    code_signatures: tuple[str, ...] = ()
    epcs: tuple[tuple[str, str], ...] = ()
    """(EPC, role) of every EPC the event names: its ``event_epcs`` rows (``ledger.epc_index``)."""


def moment(t_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=t_ms)


def _epcs(goods: GoodsSpec) -> list[str]:
    out = [terms.sscc_epc(sscc) for sscc in goods.ssccs]
    out.extend(terms.item_epc(goods.item_gtin, serial) for serial in goods.item_serials)
    return out


def _quantities(goods: GoodsSpec) -> list[dict[str, Any]]:
    lines = (*goods.lines, *goods.contents)
    return [terms.quantity_element(gtin, lot, quantity, unit) for gtin, lot, quantity, unit in lines]


class _Org:
    __slots__ = ("location", "party", "uscc")

    def __init__(self, uscc: str, location_id: int) -> None:
        self.uscc = uscc
        self.location = terms.location_uri(location_id)
        self.party = terms.owning_party(uscc)


_Builder = Callable[[_Org, datetime, tuple[Any, ...]], dict[str, Any]]


def _commission(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
    gtin, lot, quantity, unit, expiry, production = a
    return epcis_events.lot_commissioning(
        event_time=when,
        lot=terms.quantity_element(gtin, lot, quantity, unit),
        registrant=org.party,
        read_point=org.location,
        ilmd=terms.lot_master_data(
            expiry_date=date.fromisoformat(expiry) if expiry else None,
            production_date=date.fromisoformat(production) if production else None,
        ),
    )


def _codes(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
    gtin, lot, serials, expiry = a
    return epcis_events.item_commissioning(
        event_time=when,
        epcs=[terms.item_epc(gtin, s) for s in serials],
        registrant=org.party,
        read_point=org.location,
        ilmd=terms.lot_master_data(
            lot=lot, expiry_date=date.fromisoformat(expiry) if expiry else None, production_date=None
        ),
    )


def _transfer(action: TradeAction) -> _Builder:
    def build(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
        counterparty, goods = a
        sender, receiver = (org, _orgs[counterparty]) if action is TradeAction.SHIP else (_orgs[counterparty], org)
        return epcis_events.transfer(
            action,
            event_time=when,
            epcs=_epcs(goods),
            quantities=_quantities(goods),
            sender=sender.party,
            receiver=receiver.party,
            read_point=org.location,
        )

    return build


def _consume(action: TradeAction) -> _Builder:
    def build(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
        (goods,) = a
        return epcis_events.consumption(
            action,
            event_time=when,
            epcs=_epcs(goods),
            quantities=_quantities(goods),
            holder=org.party,
            read_point=org.location,
        )

    return build


def _inspect(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
    goods, passed = a
    return epcis_events.inspection(
        passed=passed, event_time=when, epcs=_epcs(goods), quantities=_quantities(goods), read_point=org.location
    )


def _transform(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
    goods, (gtin, lot, quantity, unit) = a
    return epcis_events.transformation(
        event_time=when,
        input_epcs=_epcs(goods),
        input_quantities=_quantities(goods),
        output=terms.quantity_element(gtin, lot, quantity, unit),
        read_point=org.location,
    )


def _aggregate(action: TradeAction) -> _Builder:
    def build(org: _Org, when: datetime, a: tuple[Any, ...]) -> dict[str, Any]:
        sscc, gtin, serials = a
        children = [terms.item_epc(gtin, s) for s in serials]
        return epcis_events.aggregation(
            action, sscc=sscc, child_epcs=children, event_time=when, read_point=org.location
        )

    return build


_BUILDERS: Final[dict[str, _Builder]] = {
    COMMISSION: _commission,
    CODES: _codes,
    SHIP: _transfer(TradeAction.SHIP),
    RECEIVE: _transfer(TradeAction.RECEIVE),
    SELL: _consume(TradeAction.SELL),
    ADMINISTER: _consume(TradeAction.ADMINISTER),
    DESTROY: _consume(TradeAction.DESTROY),
    INSPECT: _inspect,
    TRANSFORM: _transform,
    PACK: _aggregate(TradeAction.PACK),
    UNPACK: _aggregate(TradeAction.UNPACK),
}

# Per-process state, set once by ``start_worker`` (the organisation table and keys are large; specs stay small).
_orgs: list[_Org] = []
_keys: Sequence[bytes] = ()
_signers: dict[int, EventSigner] = {}
_code_signers: dict[int, CodeSigner] = {}
_domain: SigningDomain | None = None
_ttl = 3600


def start_worker(organisations: Sequence[tuple[str, int]], keys: Sequence[bytes], chain_id: int, ttl: int) -> None:
    global _orgs, _keys, _domain, _ttl  # one copy per worker process, loaded once
    _orgs = [_Org(uscc, location_id) for uscc, location_id in organisations]
    _keys = keys
    _signers.clear()
    _code_signers.clear()
    _domain = SigningDomain(chain_id=chain_id)
    _ttl = ttl


def _signer(org: int) -> EventSigner:
    signer = _signers.get(org)
    if signer is None:
        signer = _signers[org] = EventSigner(_keys[org])
    return signer


def sign_specs(specs: Sequence[Spec]) -> list[Signed]:
    """Build, hash and sign each spec, in order (the pool's unit of work)."""
    assert _domain is not None, "start_worker was not called in this process"
    out = []
    for kind, org, nonce, t_ms, args in specs:
        document = _BUILDERS[kind](_orgs[org], moment(t_ms), args)
        event_id = event_hash(document)
        digest = hash_digest(event_id)
        signer = _signer(org)
        signature = signer.sign(digest, nonce=nonce, deadline=t_ms // 1000 + _ttl, domain=_domain)
        stored = {**document, "eventID": event_id}
        code_signatures: tuple[str, ...] = ()
        if kind == CODES:
            gtin, lot, serials, _expiry = args
            prefix = DigitalLink(gtin=gtin, lot=lot).path + "/21/"
            code_signer = _code_signers.get(org) or _code_signers.setdefault(org, CodeSigner(_keys[org]))
            code_signatures = tuple(code_signer.sign_path(prefix + quote(s, safe="")) for s in serials)
        out.append(
            Signed(
                event_id=event_id,
                digest=digest,
                signature="0x" + signature.signature.hex(),
                document=json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
                event_type=document["type"],
                action=document.get("action"),
                biz_step=document.get("bizStep"),
                disposition=document.get("disposition"),
                code_signatures=code_signatures,
                epcs=tuple(named_epcs(stored)),
            )
        )
    return out
