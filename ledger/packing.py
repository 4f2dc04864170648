"""Aggregation and transformation: packing items into cases and pallets (SSCC), unpacking, and turning input
batches into a new output batch. Same discipline as ``ledger.trade``: check everything, then write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis_events, terms
from ledger.bookkeeping import enter_transformation
from ledger.errors import AlreadyExists, InvalidTransition, UnknownCode, UnknownProduct
from ledger.event_hash import hash_digest
from ledger.goods import Goods, ResolvedGoods, code_label, item_state, resolve
from ledger.identifiers import DigitalLink, normalize_gtin, normalize_sscc, validate_lot
from ledger.merkle import batch_key
from ledger.models import Batch, Code, CodeKind, CodeStatus, Event, Product
from ledger.policy import TradeAction, require_trade_role
from ledger.recorder import ZERO_HEAD, Signer
from ledger.rules import require_holder, require_quantity
from ledger.trade import ScanContext, check_outgoing, epcs_of, quantities_of, read_point, record_scan_event


def pack(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    children: Sequence[DigitalLink],
    *,
    sscc: str,
    document: dict[str, Any] | None = None,
) -> tuple[Event, Code]:
    """Put items (or smaller units) into a case or pallet. The parent is created if it is new.

    As in ``ledger.trade``, the organisation's roles are checked first (``ledger.policy``), and a given
    ``document`` (a captured EPCIS event) is recorded instead of the built one."""
    require_trade_role(ctx.org, TradeAction.PACK)
    sscc = normalize_sscc(sscc)
    if not children:
        raise InvalidTransition("packing needs at least one child code")
    resolved = resolve(session, Goods(codes=tuple(children)))
    for code in resolved.top_codes:
        require_holder(item_state(code, code_label(code, resolved.batches, resolved.products)), ctx.org.id)
        if code.parent_id is not None:
            raise InvalidTransition(
                f"{code_label(code, resolved.batches, resolved.products)} is already packed", code_id=code.id
            )
        if code.sscc == sscc:
            raise InvalidTransition("a logistic unit cannot contain itself", sscc=sscc)
    parent = session.scalar(select(Code).where(Code.sscc == sscc).with_for_update())
    if parent is None:
        parent = Code(
            kind=CodeKind.SSCC,
            sscc=sscc,
            status=CodeStatus.ACTIVE,
            holder_org_id=ctx.org.id,
            issued_by_org_id=ctx.org.id,
        )
        session.add(parent)
        session.flush()
    else:
        require_holder(item_state(parent, f"(00){sscc}"), ctx.org.id)
    when = ctx.time()
    if document is None:
        document = epcis_events.aggregation(
            TradeAction.PACK, sscc=sscc, child_epcs=epcs_of(resolved), event_time=when, read_point=read_point(ctx)
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    for code in resolved.top_codes:
        code.parent_id = parent.id
    return event, parent


def unpack(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    *,
    sscc: str,
    children: Sequence[DigitalLink] = (),
    document: dict[str, Any] | None = None,
) -> Event:
    """Take some (or all) children out of a case or pallet."""
    require_trade_role(ctx.org, TradeAction.UNPACK)
    sscc = normalize_sscc(sscc)
    parent = session.scalar(select(Code).where(Code.sscc == sscc).with_for_update())
    if parent is None:
        raise UnknownCode(f"SSCC {sscc} was never issued on this network", sscc=sscc)
    require_holder(item_state(parent, f"(00){sscc}"), ctx.org.id)
    if children:
        resolved = resolve(session, Goods(codes=tuple(children)))
        for code in resolved.top_codes:
            if code.parent_id != parent.id:
                raise InvalidTransition(
                    f"{code_label(code, resolved.batches, resolved.products)} is not in {sscc}", code_id=code.id
                )
        taken_out = resolved.top_codes
    else:
        taken_out = list(session.scalars(select(Code).where(Code.parent_id == parent.id).with_for_update()))
        if not taken_out:
            raise InvalidTransition(f"SSCC {sscc} is empty", sscc=sscc)
        resolved = resolve(session, Goods(codes=tuple(_link(session, c) for c in taken_out)))
    when = ctx.time()
    if document is None:
        document = epcis_events.aggregation(
            TradeAction.UNPACK, sscc=sscc, child_epcs=epcs_of(resolved), event_time=when, read_point=read_point(ctx)
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    for code in taken_out:
        code.parent_id = None
    return event


def _link(session: Session, code: Code) -> DigitalLink:
    if code.sscc is not None:
        return DigitalLink(sscc=code.sscc)
    batch = session.get(Batch, code.batch_id)
    assert batch is not None
    product = session.get(Product, batch.product_id)
    assert product is not None
    return DigitalLink(gtin=product.gtin, lot=batch.lot, serial=code.serial)


def transform(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    inputs: Goods,
    *,
    output_gtin: str,
    output_lot: str,
    output_quantity: int,
    document: dict[str, Any] | None = None,
) -> tuple[Event, Batch]:
    """Consume input batches (e.g. carcasses) into a new output batch (cut packs) that this holder owns."""
    require_trade_role(ctx.org, TradeAction.TRANSFORM)
    output_gtin, output_lot = normalize_gtin(output_gtin), validate_lot(output_lot)
    output_quantity = require_quantity(output_quantity, what="output quantity")
    product = session.scalar(select(Product).where(Product.gtin == output_gtin))
    if product is None:
        raise UnknownProduct(f"no product with GTIN {output_gtin} is registered", gtin=output_gtin)
    if session.scalar(select(Batch.id).where(Batch.product_id == product.id, Batch.lot == output_lot)) is not None:
        raise AlreadyExists(f"batch {output_gtin}/{output_lot} already exists", gtin=output_gtin, lot=output_lot)
    resolved = resolve(session, inputs)
    if not resolved.quantity_by_batch():
        raise InvalidTransition("a transformation needs at least one input")
    check_outgoing(session, ctx, resolved, action="transformed", available=True)
    output = _output_batch(session, ctx, resolved, product, output_lot, output_quantity)
    when = ctx.time()
    if document is None:
        document = epcis_events.transformation(
            event_time=when,
            input_epcs=epcs_of(resolved),
            input_quantities=quantities_of(resolved),
            output=terms.quantity_element(output_gtin, output_lot, output_quantity, product.unit),
            read_point=read_point(ctx),
        )
    touched = [*resolved.batches.values(), output]
    event = record_scan_event(session, signer, ctx, document, touched, when)
    # A transformed batch has no registrant declaration: its birth certificate is the transformation event.
    output.registration_hash = "0x" + hash_digest(event.event_id).hex()
    enter_transformation(session, event.seq, ctx.org.id, resolved.quantity_by_batch(), output, when)
    for code in resolved.items:
        code.status, code.consumed_at = CodeStatus.TRANSFORMED, when
    return event, output


def _output_batch(
    session: Session, ctx: ScanContext, inputs: ResolvedGoods, product: Product, lot: str, quantity: int
) -> Batch:
    """The new batch a transformation makes, held by the transforming organisation; it expires with its inputs."""
    expiries = [b.expiry_date for b in inputs.batches.values() if b.expiry_date is not None]
    output = Batch(
        product_id=product.id,
        lot=lot,
        registrant_org_id=ctx.org.id,
        quantity=quantity,
        expiry_date=min(expiries) if expiries else None,
        batch_key="0x" + batch_key(product.gtin, lot).hex(),
        registration_hash=ZERO_HEAD,
        chain_head=ZERO_HEAD,
        event_count=0,
    )
    session.add(output)
    session.flush()
    return output
