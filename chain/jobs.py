"""The chain-job executor: the chain actions the registry queues besides anchoring, run until they are done.

``ledger.registry`` writes a :class:`~ledger.models.ChainJob` in the same transaction as what it concerns:

* ``grant_roles`` ``{org_id, address, roles}`` — a new organisation's account is allowlisted on the node
  (where the node has account permissioning) and the regulator admin grants it the on-chain roles matching
  its ledger roles;
* ``register_batch`` ``{batch_id, batch_key, registration_hash, category, org_id}`` — the producer's own key
  registers the batch on chain, so the chain records who declared it, not the operator.

``recall.service`` queues the recall jobs, signed with the key of the regulator ``org_id`` who acted:

* ``open_recall`` ``{recall_id, chain_recall_id, batch_keys, recall_class, reason_hash, org_id}``;
* ``close_recall`` ``{recall_id, chain_recall_id, reason_hash, org_id}``.

Every job is idempotent: it reads the chain first and sends only what is missing, so a job retried after a
crash (or run by two workers at once) changes nothing twice. No database transaction stays open while the
chain works: on SQLite that would hold the write lock every scan waits for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import requests
from eth_utils.address import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3.types import RPCEndpoint

from chain.artifacts import ContractReverted, Flow, RecallStatus, role_id
from chain.client import ChainClient, ChainUnavailable
from ledger.errors import Conflict, Forbidden, InvalidInput, LotlineError, NotFound, UnknownOrganisation
from ledger.keys import KeyVault, address_of
from ledger.models import Category, ChainJob, ChainJobStatus, Organisation, Role, utcnow

ROLE_ON_CHAIN: Final[Mapping[Role, str]] = {
    Role.PRODUCER: "PRODUCER_ROLE",
    Role.DISTRIBUTOR: "DISTRIBUTOR_ROLE",
    Role.RETAILER: "RETAILER_ROLE",
    Role.CARRIER: "CARRIER_ROLE",
    Role.VACCINATOR: "VACCINATOR_ROLE",
    Role.REGULATOR: "REGULATOR_ROLE",
}
FLOW_OF_CATEGORY: Final[Mapping[Category, Flow]] = {
    Category.COLD_CHAIN: Flow.COLD_CHAIN,
    Category.FARM_PRODUCE: Flow.FARM_PRODUCE,
    Category.VACCINE: Flow.VACCINE,
}
MAX_ATTEMPTS: Final = 10
_METHOD_NOT_FOUND: Final = -32601
_PERMANENT = (Conflict, InvalidInput, NotFound)
"""Failures a retry cannot fix (a batch registered with another hash, an undecryptable key, a vanished org):
the job is marked failed at once, for an operator to look at."""


@dataclass(frozen=True)
class JobsResult:
    """What one :func:`run_chain_jobs` run did, for logs and metrics."""

    done: int
    retrying: int
    failed: int


def regulator_admin_key(session: Session, vault: KeyVault) -> bytes:
    """The key of the contract's regulator admin: the first regulator organisation (see ``trace_api.cli.up``)."""
    for org in session.scalars(select(Organisation).order_by(Organisation.id)):
        if org.has_role(Role.REGULATOR):
            return vault.decrypt(org.encrypted_key, org_ref=org.uscc)
    raise UnknownOrganisation("no regulator organisation is registered: run `lotline up` first")


def run_chain_jobs(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    *,
    vault: KeyVault,
    admin_key: bytes | None = None,
    limit: int = 500,
    max_attempts: int = MAX_ATTEMPTS,
) -> JobsResult:
    """Run up to ``limit`` pending jobs in the order they were queued (grants come before the registrations
    that need them). ``admin_key`` defaults to :func:`regulator_admin_key`.

    A failing job is retried by later runs (``attempts``, ``last_error``) until ``max_attempts``. If the node
    does not answer, :class:`ChainUnavailable` is raised at once without charging the job an attempt: the
    chain being down is not the job's fault, and the caller retries the whole run later.
    """
    with session_factory() as session:
        job_ids = list(
            session.scalars(
                select(ChainJob.id).where(ChainJob.status == ChainJobStatus.PENDING).order_by(ChainJob.id).limit(limit)
            )
        )
        session.commit()
    if not job_ids:
        return JobsResult(0, 0, 0)
    if admin_key is None:
        with session_factory() as session:
            admin_key = regulator_admin_key(session, vault)
            session.commit()
    outcomes = [_run_one(session_factory, client, vault, admin_key, job_id, max_attempts) for job_id in job_ids]
    done, retrying, failed = (
        outcomes.count(status) for status in (ChainJobStatus.DONE, ChainJobStatus.PENDING, ChainJobStatus.FAILED)
    )
    return JobsResult(done, retrying, failed)


def allowlist(client: ChainClient, address: str) -> bool:
    """Allow ``address`` to send transactions; False when the node has no account permissioning.

    ``perm_addAccountsToAllowlist`` is Besu's PERM API, which the embedded node implements too; anvil and
    plain nodes answer "method not found", meaning anyone may send.
    """
    address = to_checksum_address(address)
    error = _perm(client, "perm_addAccountsToAllowlist", [[address]]).get("error")
    if not error:
        return True
    if error.get("code") == _METHOD_NOT_FOUND:
        return False
    # Besu refuses an entry that is already there; that is the state we want.
    listed = _perm(client, "perm_getAccountsAllowlist", []).get("result") or []
    if address.lower() in {a.lower() for a in listed}:
        return True
    raise Forbidden(f"the node refused to allowlist {address}: {error.get('message')}", address=address)


def _perm(client: ChainClient, method: str, params: list[Any]) -> Mapping[str, Any]:
    """A raw JSON-RPC call (web3 knows no ``perm_*`` method); the reply with its ``error``, if any."""
    try:
        reply: Mapping[str, Any] = client.w3.provider.make_request(RPCEndpoint(method), params)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ChainUnavailable(f"the chain node at {client.rpc_url} does not answer: {exc}") from exc
    return reply


def _run_one(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    vault: KeyVault,
    admin_key: bytes,
    job_id: int,
    max_attempts: int,
) -> ChainJobStatus | None:
    """Run one job; its status afterwards, or None if it was gone or no longer pending."""
    with session_factory() as session:
        job = session.get(ChainJob, job_id)
        if job is None or job.status != ChainJobStatus.PENDING:
            return None
        kind, payload = job.kind, dict(job.payload)
        session.commit()
    try:
        if kind == "grant_roles":
            tx_hash = _grant_roles(client, admin_key, payload)
        elif kind == "register_batch":
            tx_hash = _register_batch(client, _org_key(session_factory, vault, payload), payload)
        elif kind == "open_recall":
            tx_hash = _open_recall(client, _org_key(session_factory, vault, payload), payload)
        elif kind == "close_recall":
            tx_hash = _close_recall(client, _org_key(session_factory, vault, payload), payload)
        else:
            raise InvalidInput(f"unknown chain job kind {kind!r}", job_id=job_id)
    except ChainUnavailable:
        raise
    except Exception as exc:
        return _record_failure(session_factory, job_id, exc, max_attempts)
    with session_factory() as session:
        job = session.get(ChainJob, job_id)
        if job is not None:
            job.attempts += 1
            job.status = ChainJobStatus.DONE
            job.tx_hash = None if tx_hash is None else "0x" + tx_hash.hex()
            job.last_error = None
            job.done_at = utcnow()
        session.commit()
    return ChainJobStatus.DONE


def _org_key(session_factory: sessionmaker[Session], vault: KeyVault, payload: Mapping[str, Any]) -> bytes:
    """The key of the organisation a job acts for (a batch's registrant, a recall's regulator)."""
    with session_factory() as session:
        org = session.get(Organisation, payload["org_id"])
        session.commit()
    if org is None:
        raise UnknownOrganisation("the organisation this job acts for no longer exists", org_id=payload["org_id"])
    return vault.decrypt(org.encrypted_key, org_ref=org.uscc)


def _grant_roles(client: ChainClient, admin_key: bytes, payload: Mapping[str, Any]) -> bytes | None:
    """Allowlist the account and grant the roles it lacks, in one pipelined burst; the last tx hash."""
    address = to_checksum_address(payload["address"])
    allowlist(client, address)
    missing = [
        ROLE_ON_CHAIN[Role(role)]
        for role in payload["roles"]
        if not client.has_role(ROLE_ON_CHAIN[Role(role)], address)
    ]
    # grantRole of a role already held is a no-op on chain (OpenZeppelin), so a racing worker costs nothing.
    hashes = [
        client.send(admin_key, client.artifact.encode_call("grantRole", role_id(role), address)) for role in missing
    ]
    client.wait(hashes)
    return hashes[-1] if hashes else None


def _register_batch(client: ChainClient, producer_key: bytes, payload: Mapping[str, Any]) -> bytes | None:
    batch_key = bytes.fromhex(payload["batch_key"][2:])
    wanted = bytes.fromhex(payload["registration_hash"][2:])
    if _registered(client, batch_key, wanted):
        return None
    allowlist(client, address_of(producer_key))
    flow = FLOW_OF_CATEGORY[Category(payload["category"])]
    try:
        return client.transact(producer_key, "registerBatch", batch_key, int(flow), wanted).tx_hash
    except ContractReverted as exc:
        # Another worker registered it between our read and our transaction.
        if exc.error == "LotlineAnchorBatchAlreadyRegistered" and _registered(client, batch_key, wanted):
            return None
        raise


def _open_recall(client: ChainClient, regulator_key: bytes, payload: Mapping[str, Any]) -> bytes | None:
    recall_id = _bytes32(payload["chain_recall_id"])
    if client.recall_record(recall_id).status is not RecallStatus.NONE:
        return None
    allowlist(client, address_of(regulator_key))
    try:
        return client.transact(
            regulator_key,
            "openRecall",
            recall_id,
            [_bytes32(key) for key in payload["batch_keys"]],
            int(payload["recall_class"]),
            _bytes32(payload["reason_hash"]),
        ).tx_hash
    except ContractReverted as exc:
        # Another worker opened it between our read and our transaction.
        if exc.error == "LotlineAnchorDuplicateRecall":
            return None
        raise


def _close_recall(client: ChainClient, regulator_key: bytes, payload: Mapping[str, Any]) -> bytes | None:
    recall_id = _bytes32(payload["chain_recall_id"])
    if client.recall_record(recall_id).status is RecallStatus.CLOSED:
        return None
    allowlist(client, address_of(regulator_key))
    try:
        return client.transact(regulator_key, "closeRecall", recall_id, _bytes32(payload["reason_hash"])).tx_hash
    except ContractReverted as exc:
        if exc.error == "LotlineAnchorRecallAlreadyClosed":
            return None
        raise


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _registered(client: ChainClient, batch_key: bytes, wanted: bytes) -> bool:
    """Whether the chain already holds this registration; a different one there is a conflict for people."""
    record = client.batch_record(batch_key)
    if not record.registered:
        return False
    if record.registration_hash != wanted:
        raise Conflict(
            f"batch 0x{batch_key.hex()} is registered on chain with hash 0x{record.registration_hash.hex()}, "
            f"not the ledger's 0x{wanted.hex()}",
            batch_key="0x" + batch_key.hex(),
        )
    return True


def _record_failure(
    session_factory: sessionmaker[Session], job_id: int, exc: Exception, max_attempts: int
) -> ChainJobStatus | None:
    detail = exc.detail if isinstance(exc, LotlineError) else str(exc)
    with session_factory() as session:
        job = session.get(ChainJob, job_id)
        if job is None:
            return None
        job.attempts += 1
        job.last_error = f"{type(exc).__name__}: {detail}"[:2000]
        if isinstance(exc, _PERMANENT) or job.attempts >= max_attempts:
            job.status = ChainJobStatus.FAILED
        status = job.status
        session.commit()
    return status
