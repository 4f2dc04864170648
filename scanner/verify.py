"""Telling genuine codes from forged ones on a phone or scanner with no network (docs/identifiers.md).

The scanner downloads the issuer key set once (:meth:`OfflineVerifier.to_json` on the server,
:meth:`OfflineVerifier.from_json` on the device) and from then on checks every scanned code by itself: the
code's signature must recover to the address of a known issuer whose key has not been revoked.

What this cannot see offline: a perfect copy of a genuine label (a clone) verifies here like the original.
Clones are caught by the ledger, which knows how often and where each code was scanned and sold.
The key set is trusted as downloaded, so fetch it over HTTPS from the network's own server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from eth_utils.address import to_checksum_address

from ledger.code_signing import SignatureStatus, split_signed, verify_code
from ledger.errors import InvalidDigitalLink, InvalidInput, InvalidSignature
from ledger.identifiers import DigitalLink

KEY_SET_FORMAT: Final = "lotline-issuers/v1"
_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")


class ScanReason(StrEnum):
    GENUINE = "genuine"
    NOT_A_CODE = "not_a_code"  # not a Digital Link lotline can read
    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"  # the signature matches no public key
    UNKNOWN_ISSUER = "unknown_issuer"  # signed by no known issuer, or altered after signing
    REVOKED_ISSUER = "revoked_issuer"  # signed by a key that is no longer trusted


_DETAILS: Final = {
    ScanReason.GENUINE: "signed by {issuer}",
    ScanReason.NOT_A_CODE: "not a code of this network: {why}",
    ScanReason.MISSING_SIGNATURE: "the code carries no issuer signature",
    ScanReason.MALFORMED_SIGNATURE: "the code's signature is malformed: {why}",
    ScanReason.BAD_SIGNATURE: "the code's signature is invalid",
    ScanReason.UNKNOWN_ISSUER: "no known issuer signed this code: it is fake or was altered",
    ScanReason.REVOKED_ISSUER: "signed with the revoked key of {issuer}",
}


@dataclass(frozen=True, slots=True)
class ScanCheck:
    """The offline verdict on one scanned text. ``detail`` is a sentence to show; ``reason`` is for machines."""

    text: str
    reason: ScanReason
    detail: str
    link: DigitalLink | None = None
    signer: str | None = None
    issuer_name: str | None = None

    @property
    def genuine(self) -> bool:
        return self.reason is ScanReason.GENUINE


def _checksummed(address: object, what: str) -> str:
    """EIP-55 form of ``address``; a mixed-case address must carry a correct checksum (a typo guard)."""
    if not isinstance(address, str) or not _HEX_ADDRESS.fullmatch(address):
        raise InvalidInput(f"{what} is not a 20-byte hex address", address=repr(address)[:80])
    checksummed = to_checksum_address(address)
    body = address[2:]
    if body not in (body.lower(), body.upper()) and address != checksummed:
        raise InvalidInput(f"{what} has a wrong EIP-55 checksum", address=address)
    return checksummed


class OfflineVerifier:
    """Checks scanned codes against a fixed set of issuer addresses, with no network."""

    __slots__ = ("_issuers", "_revoked")

    def __init__(self, issuers: Mapping[str, str], revoked: Iterable[str] | None = None) -> None:
        self._issuers = {_checksummed(address, "an issuer address"): name for address, name in issuers.items()}
        self._revoked = frozenset(_checksummed(address, "a revoked address") for address in revoked or ())

    @property
    def issuers(self) -> dict[str, str]:
        return dict(self._issuers)

    @property
    def revoked(self) -> frozenset[str]:
        return self._revoked

    def check(self, text: str) -> ScanCheck:
        try:
            link, signature = split_signed(text)
        except InvalidDigitalLink as exc:
            return _verdict(text, ScanReason.NOT_A_CODE, why=exc.detail)
        except InvalidSignature as exc:
            return _verdict(text, ScanReason.MALFORMED_SIGNATURE, why=exc.detail)
        if signature is None:
            return _verdict(text, ScanReason.MISSING_SIGNATURE, link=link)
        try:
            result = verify_code(link, signature, self._issuers)
        except InvalidSignature as exc:
            return _verdict(text, ScanReason.MALFORMED_SIGNATURE, link=link, why=exc.detail)
        except InvalidDigitalLink as exc:  # a kind of link lotline never signs, such as a bare GTIN
            return _verdict(text, ScanReason.NOT_A_CODE, link=link, why=exc.detail)
        if result.status is SignatureStatus.BAD_SIGNATURE:
            return _verdict(text, ScanReason.BAD_SIGNATURE, link=link)
        signer = result.signer
        if signer in self._revoked:
            name = self._issuers.get(signer, signer)
            return _verdict(text, ScanReason.REVOKED_ISSUER, link=link, signer=signer, issuer=name)
        if result.status is SignatureStatus.UNKNOWN_ISSUER:
            return _verdict(text, ScanReason.UNKNOWN_ISSUER, link=link, signer=signer)
        return _verdict(
            text,
            ScanReason.GENUINE,
            link=link,
            signer=signer,
            issuer_name=result.issuer_name,
            issuer=result.issuer_name,
        )

    def to_json(self) -> str:
        """The key set as the server publishes it: sorted, so the same set always gives the same bytes."""
        document = {
            "format": KEY_SET_FORMAT,
            "issuers": [{"address": address, "name": name} for address, name in sorted(self._issuers.items())],
            "revoked": sorted(self._revoked),
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> OfflineVerifier:
        """Load a downloaded key set; anything unexpected is refused rather than half-loaded."""
        try:
            document: Any = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("the issuer key set is not JSON", error=str(exc)) from exc
        if not isinstance(document, dict) or document.get("format") != KEY_SET_FORMAT:
            raise InvalidInput(f"the issuer key set is not in the {KEY_SET_FORMAT} format")
        entries, revoked = document.get("issuers"), document.get("revoked", [])
        if not isinstance(entries, list) or not isinstance(revoked, list):
            raise InvalidInput("the issuer key set needs an 'issuers' list and an optional 'revoked' list")
        issuers: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise InvalidInput("each issuer has an 'address' and a 'name'", entry=repr(entry)[:200])
            address = _checksummed(entry.get("address"), "an issuer address")
            if address in issuers:
                raise InvalidInput("the issuer key set lists an address twice", address=address)
            issuers[address] = entry["name"]
        return cls(issuers, revoked)


def _verdict(
    text: str,
    reason: ScanReason,
    *,
    link: DigitalLink | None = None,
    signer: str | None = None,
    issuer_name: str | None = None,
    **detail_values: str | None,
) -> ScanCheck:
    detail = _DETAILS[reason].format(**detail_values)
    return ScanCheck(text, reason, detail, link, signer, issuer_name)
