"""Failed look-ups of pass codes, counted per caller in fixed windows of the cache (Redis when
configured): guessing codes must be hopeless, while a site scanning real passes is never slowed —
only failures (malformed, mistyped or unknown codes) count, and only the caller's own: a device's
token, or a person within an organisation; the IP only for anonymous callers. Behind a proxy an
IP is shared by everyone, and a colleague's or a stranger's failures must never refuse a real
pass."""

import time

from django.core.cache import cache

from passnum.client_ip import client_ip
from passnum.errors import DomainError
from passnum.refusals import Refusal

WINDOW_SECONDS = 600
LIMIT = 30  # failures per caller and window


class RateLimited(DomainError):
    code = Refusal.RATE_LIMITED
    status = Refusal.RATE_LIMITED.status
    message = "Trop de codes erronés en peu de temps : attendez quelques minutes avant de réessayer."

    def __init__(self, retry_after):
        super().__init__()
        self.retry_after = retry_after


def lookup_caller(request) -> str:
    """Whose failures these are: the API token (a device), else the person in the organisation
    they act for, else (anonymous) the client IP. Takes a Django or a DRF request."""
    token = getattr(request, "auth", None)
    if token is not None and getattr(token, "pk", None) is not None:
        return f"token:{token.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        organisation = getattr(request, "organisation", None)
        return f"org:{getattr(organisation, 'pk', None)}:user:{user.pk}"
    return f"ip:{client_ip(getattr(request, '_request', request))}"


def _key(caller, now):
    return f"pn:failed-lookups:{caller}:{int(now // WINDOW_SECONDS)}"


def check_lookups_allowed(caller: str):
    """Raises ``RateLimited`` (with the seconds to wait) once this caller failed too often."""
    now = time.time()
    if (cache.get(_key(caller, now)) or 0) >= LIMIT:
        raise RateLimited(retry_after=int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1)


def count_failed_lookup(caller: str):
    key = _key(caller, time.time())
    cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 60)


# --- Public look-ups (« check my pass », a pass's QR page): a fixed window per IP -----------------

VERIFY_PER_MINUTE = 20


def per_ip_limit_reached(request, scope, per_minute):
    """Counts this request in the current minute of its IP for ``scope``; True beyond the limit."""
    key = f"pn:{scope}:{client_ip(request)}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    return count > per_minute
