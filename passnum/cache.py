"""A Redis cache that never fails a request: Redis holds counters and nothing that cannot be lost.

When Redis cannot be reached, each operation logs a warning and answers as an empty cache would
(a read finds nothing, a write is dropped, ``add`` says it stored the key so that allauth's lock
does not wait for a Redis that is gone). After a failure, Redis is left alone for
``RETRY_AFTER_SECONDS``: requests do not each wait for a connection timeout. ``is_down()`` tells
the rate limits (``passnum/ratelimit.py``) to count in PostgreSQL meanwhile, and ``/healthz``
reports it.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("passnum.cache")

RETRY_AFTER_SECONDS = 5
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class TolerantRedisCache(RedisCache):
    _down_until = 0.0  # shared by every instance (one per thread): Redis is down for all of them

    def is_down(self):
        return time.monotonic() < TolerantRedisCache._down_until

    def ping(self):
        """True when Redis answers now (ignores the pause after a failure): for /healthz."""
        try:
            self._cache.get_client(write=True).ping()
        except UNREACHABLE:
            return False
        TolerantRedisCache._down_until = 0.0
        return True

    def _call(self, operation, fallback, *args, **kwargs):
        if self.is_down():
            return fallback
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except UNREACHABLE as error:
            TolerantRedisCache._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("Redis injoignable (%s) : cache ignoré pendant %s s.", error, RETRY_AFTER_SECONDS)
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", True, key, value, timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version=version)

    def incr(self, key, delta=1, version=None):
        # An unknown key raises ValueError, as in Django; an unreachable Redis counts from 0.
        return self._call("incr", delta, key, delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], data, timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version=version)

    def clear(self):
        return self._call("clear", False)
