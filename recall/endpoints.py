"""Where recall webhooks may go: public addresses, and only the private networks a deployment names.

Each organisation sets its own webhook URL, and the worker posts to it from inside the deployment. Without a
check, a URL such as ``http://127.0.0.1:6379/`` or ``http://169.254.169.254/`` would have the worker talk to the
deployment's own Redis or a cloud metadata service on an organisation's behalf (server-side request forgery).
So a webhook may reach a global address, or an address inside ``LOTLINE_WEBHOOK_ALLOWED_NETWORKS`` (for
receivers on a private network or a VPN, common for enterprise systems here).

The check runs twice. When the URL is set, a literal address or ``localhost`` outside the policy is refused at
once, so the organisation learns it then. At delivery the host is resolved, every address it resolves to must be
allowed, and the request goes to the address that was checked (the ``Host`` header and TLS server name keep the
original host), so a DNS answer that changes between the check and the connection cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import httpx

from ledger.errors import InvalidInput, LotlineError
from ledger.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
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
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        return any(address in network for network in self.allowed_networks) or address.is_global

    def check_url(self, url: str) -> None:
        """Refuse, as bad input, a URL whose host is a literal address or local name the policy does not allow."""
        host = httpx.URL(url).host
        if host.lower() in _LOCAL_NAMES:
            literal: IPAddress = ipaddress.IPv4Address("127.0.0.1")
        else:
            try:
                literal = ipaddress.ip_address(host)
            except ValueError:
                return  # a name: checked when it is resolved, at each delivery
        if not self.permits(literal):
            raise InvalidInput(
                f"a webhook may not point at {host}: it is not a public address ({_HOW_TO_ALLOW})", url=url[:100]
            )

    def destinations(self, url: str) -> list[Destination]:
        """Resolve the URL's host and check every address it has: the request pinned to each, IPv4 first (many
        networks here still route IPv6 poorly); the sender tries the next when one does not connect."""
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")  # an internationalised name in its IDNA (punycode) form
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = _resolve(host, port)
        refused = [a for a in addresses if not self.permits(a)]
        if refused:
            named = parsed.host if str(refused[0]) == host else f"{parsed.host} resolves to {refused[0]}, which"
            raise EndpointRefused(
                f"refused: {named} is not a public address ({_HOW_TO_ALLOW})",
                host=parsed.host,
                address=str(refused[0]),
            )
        return [
            Destination(
                url=parsed.copy_with(host=str(address)),
                host_header=parsed.netloc.decode("ascii"),
                sni_hostname=host if parsed.scheme == "https" else None,
            )
            for address in sorted(addresses, key=lambda a: a.version)
        ]


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; a malformed entry is refused with its text."""
    networks = []
    for text in (t.strip() for t in texts):
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise InvalidInput(f"{text!r} is not an IP network (CIDR such as 10.0.0.0/8): {error}") from error
    return tuple(networks)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise EndpointRefused(f"{host} does not resolve: {error}", host=host) from error
    # Scope ids ("fe80::1%eth0") are dropped: such link-local addresses are refused anyway.
    unique = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in answers)
    if not unique:
        raise EndpointRefused(f"{host} has no address", host=host)
    return list(unique)
