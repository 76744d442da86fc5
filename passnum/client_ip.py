"""The one answer to « which address did this request come from? » (audit log, rate limits,
allauth's login limits, DRF throttles).

Behind ``PASSNUM_TRUSTED_PROXIES`` reverse proxies of ours, each appends the address it saw to
``X-Forwarded-For``: the client is the entry that many places from the end. Anything before it
was written by the client and proves nothing. With no trusted proxy (the default), the header is
ignored and ``REMOTE_ADDR`` is the client.
"""

import ipaddress

from django.conf import settings


def _clean(value):
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # « [::1]:443 »
        value = value[1 : value.index("]")]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request):
    """The client's address, or None without a request or when nothing readable is there."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    proxies = settings.PASSNUM_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            ip = _clean(forwarded[-proxies])
            if ip:
                return ip
        # A request that did not cross our proxies (a health check from the host): its own address.
    return _clean(meta.get("REMOTE_ADDR"))
