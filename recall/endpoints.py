"""Where recall webhooks may go: public addresses, and only the private networks a deployment names.

Each organisation sets its own webhook URL, and the worker posts to it from inside the deployment. Without a
check, a URL such as ``http://127.0.0.1:6379/`` or ``http://169.254.169.254/`` would have the worker talk to the
deployment's own Redis or a cloud metadata service on an organisation's behalf (server-side request forgery).
So a webhook may reach a global address, or an address inside ``LOTLINE_WEBHOOK_ALLOWED_NETWORKS`` (for
receivers on a private network or a VPN, common for enterprise systems here).

The check runs twice. When the URL is set, a literal address or ``localhost`` outside the policy is refused at
once, so the organisation learns it then. At delivery the host is resolved, every address it resolves to must be
allowed, and the request goes to the address that was checked (the ``Host`` header and TLS server name keep the
original host), so a DNS answer that changes between the check and the connection cannot redirect it. An IPv6
address that reaches IPv4 through a translator (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Final

import httpx

from ledger.errors import InvalidInput, LotlineError
from ledger.settings import IPNetwork, Settings, parse_networks

__all__ = ["AddressPolicy", "Destination", "EndpointRefused", "parse_networks"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_HOW_TO_ALLOW: Final = "a deployment lets webhooks reach private networks with LOTLINE_WEBHOOK_ALLOWED_NETWORKS"


class EndpointRefused(LotlineError):
    """The webhook's host is, or resolves to, an address the policy does not allow (or does not resolve)."""


@dataclass(frozen=True)
class Destination:
    """A webhook request pinned to the address that was checked."""

    url: httpx.URL
    """The URL with the checked address as its host."""
    host_header: str
    sni_hostname: str | None
    """The TLS server name (and certificate name) for https: the URL's original host."""


@dataclass(frozen=True)
class AddressPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        return cls(parse_networks(settings.webhook_allowed_networks.split(",")))

    def permits(self, address: IPAddress) -> bool:
        """Inside an allowed network, or a public unicast address that does not embed a private IPv4 one."""
        if any(address in network for network in self.allowed_networks):
            return True
        if isinstance(address, ipaddress.IPv6Address) and any(address in net for net in _OPAQUE_TRANSLATORS):
            return False  # reaches IPv4 through a translator whose target cannot be told here
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return self.permits(embedded)
        unusual = address.is_multicast or address.is_reserved or _private_beyond_stdlib(address)
        return address.is_global and not unusual

    def check_url(self, url: str) -> None:
        """Refuse, as bad input, a URL whose host is malformed, or a literal address or local name the policy does
        not allow (a name is checked again, resolved, at every delivery)."""
        host = _host_of(url)
        literal = _literal(host)
        if literal is None and host.rstrip(".").lower() in _LOCAL_NAMES:
            literal = ipaddress.IPv4Address("127.0.0.1")
        if literal is not None and not self.permits(literal):
            raise InvalidInput(
                f"a webhook may not point at {host}: it is not a public address ({_HOW_TO_ALLOW})", url=url[:100]
            )

    def destinations(self, url: str) -> list[Destination]:
        """Resolve the URL's host and check every address it has: the request pinned to each, IPv4 first (many
        networks here still route IPv6 poorly); the sender tries the next when one does not connect."""
        try:
            host = _host_of(url)  # an internationalised name in its IDNA (punycode) form
        except InvalidInput as error:  # stored before these checks existed
            raise EndpointRefused(f"refused: {error.detail}") from error
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = _resolve(host, port)
        refused = [a for a in addresses if not self.permits(a)]
        if refused:
            # A name's address is not told: the message reaches the organisation, and would map our network.
            literal = _literal(host) is not None
            what = f"{host} is not a public address" if literal else f"{parsed.host} resolves to a private address"
            raise EndpointRefused(f"refused: {what} ({_HOW_TO_ALLOW})", host=parsed.host, address=str(refused[0]))
        return [
            Destination(
                url=parsed.copy_with(host=str(address)),
                host_header=parsed.netloc.decode("ascii"),
                sni_hostname=host if parsed.scheme == "https" else None,
            )
            for address in sorted(addresses, key=lambda a: a.version)
        ]


def _host_of(url: str) -> str:
    """The URL's host in ASCII (IDNA), refused as bad input when it could never be resolved."""
    try:
        host = httpx.URL(url).raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as error:
        raise InvalidInput(f"the webhook URL is not valid: {error}", url=url[:100]) from error
    labels = host.rstrip(".").split(".")
    if _literal(host) is None and (not host or any(not 0 < len(label) <= 63 for label in labels)):
        raise InvalidInput(f"the webhook URL's host {host!r} is not a valid host name", url=url[:100])
    return host


def _literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any form the resolver accepts ("127.1", "2130706433", "0x7f.1")."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")
_OPAQUE_TRANSLATORS: Final = (
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # SIIT
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64
)
_MORE_PRIVATE: Final = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("fec0::/10"))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4): Python 3.11's ``is_global`` counts several
    of these as public whatever IPv4 address they reach."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def _private_beyond_stdlib(address: IPAddress) -> bool:
    """Ranges Python 3.11 leaves out of ``is_private``: IETF protocol assignments and IPv6 site-local."""
    return any(address.version == network.version and address in network for network in _MORE_PRIVATE)


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise EndpointRefused(f"refused: {host} does not resolve ({error})", host=host) from error
    # Scope ids ("fe80::1%eth0") are dropped: such link-local addresses are refused anyway.
    unique = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in answers)
    if not unique:
        raise EndpointRefused(f"refused: {host} has no address", host=host)
    return list(unique)
