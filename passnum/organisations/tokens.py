import hashlib
import secrets

TOKEN_PREFIX = "pn_"  # noqa: S105 - a visible prefix, not a secret


def new_key():
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()
