"""The one answer to "which address sent this request", for the rate limits, django-axes and the logs.

Behind a proxy, the peer (``REMOTE_ADDR``) is the proxy itself; the client is in the header the proxy
sets (``CLIENT_IP_HEADER``, e.g. X-Real-IP). That header is believed only when the peer is one of the
proxies (``TRUSTED_PROXIES``); a client that reaches the app directly names its own address otherwise.
Values are read from the right, past trusted proxies, as a proxy appends to X-Forwarded-For: the first
address no trusted proxy holds is the client. Anything unreadable falls back to the peer, never a 500.
"""

import ipaddress
from functools import cache

from django.conf import settings

# A request with no usable address at all (a Unix socket, a test client without one): one shared bucket.
UNKNOWN = "0.0.0.0"


@cache
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_proxy(address) -> bool:
    return any(address in network for network in _networks(tuple(settings.NUMBERFIGURE_TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The client's address as text: from the proxy's header when the peer is a trusted proxy, else the peer."""
    request = getattr(request, "_request", request)  # DRF's request wraps Django's
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return UNKNOWN
    meta_key = settings.NUMBERFIGURE_CLIENT_IP_META_KEY
    if not meta_key or not _is_proxy(peer):
        return str(peer)
    client = peer
    for item in reversed(request.META.get(meta_key, "").split(",")):
        address = _parse(item)
        if address is None:  # missing or forged beyond this point: the last address a proxy vouched for
            break
        client = address
        if not _is_proxy(address):
            break
    return str(client)
