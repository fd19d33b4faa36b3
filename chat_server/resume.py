"""Resume tokens: a member rejoins a group it was in without a password hash (issue 8 item 15).

A token is ``<expiry>.<mac>``: the expiry in Unix seconds, and a base64url HMAC-SHA256 over
(group id, the member's name key, expiry) keyed by the store's server secret, so tokens survive a
restart and a token is good for one name in one group only. At most 11 + 1 + 43 = 55 printable
ASCII characters, within the protocol's 64. Checking one costs a hash of a few dozen bytes, on the loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# What a MAC covers is prefixed with this, so a MAC made for anything else with the same secret never
# passes as a token (and a later format changes it).
_DOMAIN = b"groupchat resume token v1\0"


class ResumeTokens:
    """Issues and checks resume tokens with one secret; ``lifetime`` is in seconds."""

    def __init__(self, secret: bytes, lifetime: float) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def _mac(self, group_id: int, name_key: str, expiry: int) -> str:
        # Each part is length-delimited or a number, so no two (group, name, expiry) give the same bytes.
        key = name_key.encode("utf-8", "surrogatepass")
        message = b"%s%d\0%d\0%s\0%d" % (_DOMAIN, group_id, len(key), key, expiry)
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self, group_id: int, name_key: str, now: float) -> str:
        """A token for ``name_key`` in ``group_id``, valid until ``now`` + lifetime (Unix seconds)."""
        expiry = int(now + self.lifetime)
        return f"{expiry}.{self._mac(group_id, name_key, expiry)}"

    def valid(self, token: str, group_id: int, name_key: str, now: float) -> bool:
        """Whether ``token`` was issued for this group and name and has not expired (constant-time compare)."""
        expiry_text, _, mac = token.partition(".")
        if not (expiry_text.isascii() and expiry_text.isdigit()) or len(expiry_text) > 12:
            return False
        expiry = int(expiry_text)
        expected = self._mac(group_id, name_key, expiry)
        return hmac.compare_digest(expected.encode("ascii"), mac.encode("ascii", "replace")) and now < expiry
