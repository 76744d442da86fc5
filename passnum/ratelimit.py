"""Failed look-ups of pass codes, counted per caller in fixed windows of the cache (Redis when
configured): guessing codes must be hopeless, while a site scanning real passes is never slowed —
only failures (malformed, mistyped or unknown codes) count, and only the caller's own: a device's
token, or a person within an organisation; the IP only for anonymous callers. Behind a proxy an
IP is shared by everyone, and a colleague's or a stranger's failures must never refuse a real
pass.

While Redis is unreachable (``passnum.cache.TolerantRedisCache.is_down``), the same windows are
counted in PostgreSQL (``RateLimitCounter``, one upsert per count): a scan never fails because of
Redis, and guessing stays limited."""

import datetime
import os
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone

from passnum.cache import UNREACHABLE
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


def _redis_down():
    return getattr(cache, "is_down", lambda: False)()


def _db_counts(keys):
    from passnum.models import RateLimitCounter

    rows = RateLimitCounter.objects.filter(key__in=list(keys), expires_at__gte=timezone.now())
    return dict(rows.values_list("key", "count"))


UPSERT_COUNTER = (
    "INSERT INTO passnum_ratelimitcounter (key, count, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET count = passnum_ratelimitcounter.count + 1 RETURNING count"
)


def _db_incr(key, timeout):
    """Counts one in PostgreSQL (the fallback store), in one statement; returns the new count."""
    expires_at = timezone.now() + datetime.timedelta(seconds=timeout)
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_COUNTER, [key, expires_at])
        return cursor.fetchone()[0]


def _counts(keys):
    """The counters of these keys (absent: 0). With Redis, one MGET on a client kept by the
    process: Django's cache builds a new client for every call, which costs more CPU than the
    command itself, and this check runs on every scan. Without Redis, PostgreSQL's counters."""
    backend = caches["default"]
    if _redis_down():
        found = _db_counts(keys)
        return [found.get(key, 0) for key in keys]
    if not isinstance(backend, RedisCache):
        found = backend.get_many(keys)
        return [found.get(key, 0) for key in keys]
    process = (os.getpid(), tuple(backend._servers))  # a fork or another server: another client
    client = _redis.get(process)
    if client is None:
        _redis.clear()
        client = _redis[process] = backend._cache.get_client()
    try:
        values = client.mget([backend.make_key(key) for key in keys])
    except UNREACHABLE:
        backend.get_many(keys)  # the tolerant cache notes that Redis is down, and says so once
        found = _db_counts(keys)
        return [found.get(key, 0) for key in keys]
    # The cache stores integers as plain numbers (so that INCR works): no unpickling.
    return [int(value) if value is not None else 0 for value in values]


_redis = {}  # (process id, servers) → client (a client made before a fork is not reused after it)


def _incr(key, timeout):
    """Adds one to ``key`` (created for ``timeout`` seconds) and returns the new count."""
    if not _redis_down():
        cache.add(key, 0, timeout=timeout)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)
            count = 1
        if not _redis_down():
            return count
    # Redis is down, or went down during this very count: PostgreSQL keeps it.
    return _db_incr(key, timeout)


def _key(caller, now):
    return f"pn:failed-lookups:{caller}:{int(now // WINDOW_SECONDS)}"


def check_lookups_allowed(caller: str):
    """Raises ``RateLimited`` (with the seconds to wait) once this caller failed too often."""
    now = time.time()
    if _counts([_key(caller, now)])[0] >= LIMIT:
        raise RateLimited(retry_after=int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1)


def count_failed_lookup(caller: str):
    _incr(_key(caller, time.time()), WINDOW_SECONDS + 60)


# --- Public look-ups (« check my pass », a pass's QR page): a fixed window per IP -----------------

VERIFY_PER_MINUTE = 20


def per_ip_limit_reached(request, scope, per_minute):
    """Counts this request in the current minute of its IP for ``scope``; True beyond the limit."""
    key = f"pn:{scope}:{client_ip(request)}:{int(time.time() // 60)}"
    return _incr(key, 90) > per_minute
