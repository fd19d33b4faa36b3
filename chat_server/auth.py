"""Password hashing with a salted slow KDF (scrypt) and constant-time verification.

These functions are slow on purpose (~0.2 s); the loop only ever calls them through a worker pool.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os

# OWASP Password Storage Cheat Sheet lists N=2^14, r=8, p=5 as equivalent to its N=2^17, p=1 floor;
# this shape needs 16 MiB per hash instead of 128 MiB, so several can run at once.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 5
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """A self-describing, salted hash: ``scrypt$N$r$p$salt_hex$key_hex``."""
    salt = os.urandom(_SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; the comparison takes constant time."""
    try:
        scheme, n, r, p, salt_hex, key_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        key = _derive(password, bytes.fromhex(salt_hex), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(key, bytes.fromhex(key_hex))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=64 * 1024 * 1024,
        dklen=_KEY_BYTES,
    )


@functools.cache
def decoy_hash() -> str:
    """Verified against when a group does not exist, so an unknown group costs the same time as a
    wrong password and the two cannot be told apart."""
    return hash_password(os.urandom(16).hex())
