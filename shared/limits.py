"""Default protocol limits. Each has a reason; servers may tighten them with flags."""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""Bumped on any incompatible change to PROTOCOL.md."""

HEADER_SIZE = 4
"""Every frame starts with a 4-byte big-endian unsigned body length."""

MAX_FRAME_SIZE = 64 * 1024
"""64 KiB: ten times the longest message plus envelope; checked on the header, before buffering
(NATS caps a control line at 4 KiB and a payload at 1 MiB; we carry only chat text)."""

MAX_TEXT_LENGTH = 4000
"""Characters in one chat message: a long paste, still far under the frame limit (Discord allows 2000,
Matrix clients cap about 64 KiB per event)."""

MAX_NAME_LENGTH = 32
"""Characters in a display name; IRC's NICKLEN is 9-32 on common servers."""

MAX_GROUP_NAME_LENGTH = 64
"""Characters in a group name (IRC CHANNELLEN is commonly 50-64)."""

MAX_PASSWORD_LENGTH = 256
"""Bytes of password we are willing to hash; longer inputs are a hashing DoS, not a password."""

MAX_CLIENT_LABEL_LENGTH = 64
"""Characters in the free-form client label sent in ``hello``."""

MAX_ERROR_MESSAGE_LENGTH = 500
"""Characters in a human-readable error message."""

MAX_REQUEST_ID = 2**32 - 1
"""Request ids are unsigned 32-bit so any language can hold them in a native integer."""

MAX_GROUP_ID = 2**53 - 1
"""Group ids and sequence numbers stay exact in a JavaScript double."""

MAX_MEMBERS_IN_FRAME = 1000
"""Names in one ``group_joined`` or ``member_list`` frame (and the longest array any frame holds);
also the server's per-group member cap. Long names make the server page sooner: a frame never
exceeds the frame size limit."""

MAX_HANDSHAKE_FRAME_SIZE = 1024
"""Until Hello has arrived only Hello is legal and it is under 200 bytes; Redis limits unauthenticated bulk
strings to 16 KiB and ejabberd pre-auth stanzas to 8 KiB, we can be much stricter."""

MAX_TOKEN_LENGTH = 64
"""Characters in a client-chosen message id (a UUID is 32-36)."""

MAX_HISTORY_PAGE = 100
"""Messages in one ``history_page``; the server also stops early so a page fits in one frame."""

MAX_RESUME_TOKEN_LENGTH = 64
"""Characters in a resume token (printable ASCII): room for an HMAC-SHA256 in base64url (43) plus the
group, name and expiry it covers; the server keeps its format opaque to clients."""

MAX_RETRY_AFTER_MS = 2**32 - 1
"""``error.retry_after_ms`` is a uint32 of milliseconds (49 days), enough for any throttle we publish."""

MAX_FEATURES = 16
"""Names in ``hello.features`` / ``welcome.features``: the protocol defines five; room for growth, and
the only array a client frame may hold, so a server bounds it tightly."""

MAX_FEATURE_LENGTH = 32
"""Characters in one feature name (the defined ones are under 10)."""

MAX_AWAY_REASON_LENGTH = 100
"""Characters in an away reason ("lunch, back at 2"); an IRC AWAYLEN is commonly 160-200, ours is shown
in a member list, so shorter."""

MAX_SEARCH_TEXT_LENGTH = 200
"""Characters in a search text: a phrase, never a message; bounds the cost of matching each row."""

SEARCH_PAGE = 50
"""Hits in one ``search_results`` by default (the most is MAX_HISTORY_PAGE, like a history page)."""

TYPING_INTERVAL = 3.0
"""Seconds a client waits between two ``typing`` frames for one group (what the server's rate allows for)."""

TYPING_SHOWN_FOR = 5.0
"""Seconds a client shows "X is typing" after X's last ``typing`` frame: the interval plus latency slack."""
