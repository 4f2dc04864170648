"""The ``?s=`` signature checked on every item lookup: missing, altered or foreign gets the red never-issued notice,
and the JSON says why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ledger.code_signing import CodeSigner
from ledger.identifiers import DigitalLink
from ledger.keys import KeyVault
from ledger.models import Organisation
from tests.trace_api.client import SECRET, Api
from tests.trace_api.trust_network import JSON, coded_network, path_of


def _signature_of(link: str) -> str:
    return link.rsplit("?s=", 1)[1]


def _altered(signature: str) -> str:
    """One character changed, still canonical base64url (the last character carries two unused bits)."""
    return ("B" if signature[0] != "B" else "C") + signature[1:]


def test_the_genuine_label_shows_the_page_and_says_its_signature_is_valid(api: Api) -> None:
    net = coded_network(api)
    reply = api.client.get(path_of(net["links"][1]), headers=JSON)
    assert reply.status_code == 200, reply.text
    assert reply.json()["code"]["signature"] == "valid"


def test_a_missing_altered_or_foreign_signature_is_refused_like_a_code_never_issued(api: Api) -> None:
    net = coded_network(api)
    link = net["links"][1]
    bare = path_of(link).split("?")[0]
    parts = bare.split("/")
    stranger = CodeSigner(bytes.fromhex("11" * 32))
    foreign_made = stranger.sign(DigitalLink(gtin=parts[2], lot=parts[4], serial=parts[6]))
    shop_signed = _foreign_signature(api, net, parts)
    cases = {
        "missing": bare,
        "invalid": f"{bare}?s={_altered(_signature_of(link))}",
        "foreign": f"{bare}?s={shop_signed}",
    }
    for reason, path in cases.items():
        reply = api.client.get(path, headers=JSON)
        assert reply.status_code == 404, (reason, reply.text)
        assert reply.json()["error"] == "CodeNotGenuine"
        assert reply.json()["context"]["signature"] == reason
        page = api.client.get(path)
        assert page.status_code == 404
        assert "此码未在本网络签发，可能是假冒产品" in page.text
        assert f'data-signature="{reason}"' in page.text
    # A key nobody on the network holds: as good as altered.
    stranger_reply = api.client.get(f"{bare}?s={foreign_made}", headers=JSON)
    assert stranger_reply.json()["context"]["signature"] == "invalid"
    malformed = api.client.get(f"{bare}?s=short", headers=JSON)
    assert malformed.json()["context"]["signature"] == "invalid"


def _foreign_signature(api: Api, net: dict[str, Any], parts: list[str]) -> str:
    """The market's own key signing the importer's code: a real signature, by the wrong organisation."""
    state = api.client.app.state.lotline  # type: ignore[attr-defined]
    with state.sessions() as session:
        market = session.scalar(select(Organisation).where(Organisation.uscc == net["market"]["uscc"]))
        assert market is not None
        key = KeyVault(SECRET).decrypt(market.encrypted_key, org_ref=market.uscc)
    return CodeSigner(key).sign(DigitalLink(gtin=parts[2], lot=parts[4], serial=parts[6]))
