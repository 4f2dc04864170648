"""Where recall webhooks may go: public addresses, and private networks only when the deployment names them."""

from __future__ import annotations

import ipaddress
import re

import pytest
from pydantic import ValidationError

from ledger.errors import InvalidInput
from ledger.settings import Environment, Settings
from recall.endpoints import AddressPolicy, EndpointRefused, parse_networks


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # this machine: Redis, PostgreSQL, the chain node
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # loopback written as IPv6
        "::ffff:10.0.0.1",
        # Python 3.11 counts these as global; each reaches IPv4 through a translator, or is not unicast.
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::ffff:0:7f00:1",  # SIIT
        "fec0::1",  # site-local
        "ff02::1",
        "224.0.0.1",
        "192.0.0.8",
    ],
)
def test_no_private_loopback_or_link_local_address_is_allowed_by_default(address: str) -> None:
    assert not AddressPolicy().permits(ipaddress.ip_address(address))


def test_public_addresses_are_allowed_and_named_private_networks_too() -> None:
    policy = AddressPolicy(parse_networks(["10.0.0.0/8", " 192.168.7.0/24 ", ""]))

    assert policy.permits(ipaddress.ip_address("223.5.5.5"))
    assert policy.permits(ipaddress.ip_address("64:ff9b::df05:505"))  # NAT64 of 223.5.5.5
    assert policy.permits(ipaddress.ip_address("2002:df05:505::1"))  # 6to4 of 223.5.5.5
    assert policy.permits(ipaddress.ip_address("2400:3200::1"))
    assert policy.permits(ipaddress.ip_address("10.20.30.40"))
    assert policy.permits(ipaddress.ip_address("::ffff:10.20.30.40"))
    assert policy.permits(ipaddress.ip_address("192.168.7.5"))
    assert not policy.permits(ipaddress.ip_address("192.168.8.5"))
    assert not policy.permits(ipaddress.ip_address("127.0.0.1"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://LOCALHOST/hooks",
        "http://localhost./hooks",
        "https://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://2130706433/",  # 127.0.0.1 as the resolver reads it
        "http://0x7f000001/",
        "http://127.1/",
        "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
    ],
)
def test_a_url_at_a_literal_private_address_is_refused_when_set(url: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not a public address \(.*LOTLINE_WEBHOOK_ALLOWED_NETWORKS\)$"):
        AddressPolicy().check_url(url)


def test_a_url_by_name_is_left_to_the_delivery_check_and_an_allowed_literal_passes() -> None:
    AddressPolicy().check_url("https://erp.example.cn/hooks")
    AddressPolicy().check_url("https://223.5.5.5/hooks")
    AddressPolicy(parse_networks(["127.0.0.0/8"])).check_url("http://127.0.0.1:9000/hooks")


def test_delivery_pins_the_checked_address_ipv4_first_and_keeps_host_and_tls_name() -> None:
    [destination] = AddressPolicy().destinations("https://223.5.5.5:8443/hooks?x=1")

    assert str(destination.url) == "https://223.5.5.5:8443/hooks?x=1"
    assert (destination.host_header, destination.sni_hostname) == ("223.5.5.5:8443", "223.5.5.5")
    loopback = AddressPolicy(parse_networks(["127.0.0.0/8", "::1"]))
    first = loopback.destinations("http://localhost:9000/hooks")[0]
    assert (str(first.url), first.host_header, first.sni_hostname) == (
        "http://127.0.0.1:9000/hooks",
        "localhost:9000",
        None,
    )


def test_delivery_refuses_a_name_that_resolves_to_a_private_address_or_not_at_all() -> None:
    resolved = re.escape("refused: localhost resolves to a private address (a deployment lets")
    with pytest.raises(EndpointRefused, match=f"^{resolved}"):
        AddressPolicy().destinations("http://localhost:9000/hooks")
    with pytest.raises(EndpointRefused, match="does not resolve"):
        AddressPolicy().destinations("https://no-such-host.invalid/hooks")


def test_a_malformed_network_is_refused_in_the_policy_and_in_the_settings() -> None:
    with pytest.raises(InvalidInput, match=re.escape("'10.0.0.0/33' is not an IP network")):
        parse_networks(["10.0.0.0/33"])
    named = re.escape("LOTLINE_WEBHOOK_ALLOWED_NETWORKS: 'intranet' is not an IP network")
    with pytest.raises(ValidationError, match=named):
        Settings(environment=Environment.DEVELOPMENT, webhook_allowed_networks="10.0.0.0/8,intranet")
    settings = Settings(environment=Environment.DEVELOPMENT, webhook_allowed_networks="10.0.0.0/8, 127.0.0.1")
    assert AddressPolicy.from_settings(settings).allowed_networks == parse_networks(["10.0.0.0/8", "127.0.0.1/32"])


@pytest.mark.parametrize("url", [f"https://{'a' * 64}.example.cn/hooks", "http://a..example.cn/"])
def test_a_host_that_could_never_resolve_is_refused_when_set_and_when_due(url: str) -> None:
    with pytest.raises(InvalidInput, match=r"not a valid host name|is not valid"):
        AddressPolicy().check_url(url)
    with pytest.raises(EndpointRefused, match=r"^refused: "):
        AddressPolicy().destinations(url)
