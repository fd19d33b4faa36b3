"""The bytes each member of a group gets from one commit's :class:`Fanout`, built without copying.

The turn's ``message_posted`` frames are joined once; a member that sent nothing this turn gets that
one chunk (the same object for all of them), a sender gets views of it around its own messages with
its replies in their place. So a commit costs one join per group and one or a few references per
member, however many messages it holds: per message, the work no longer grows with the members.
"""

from __future__ import annotations

from chat_server.groups import ClientId
from chat_server.outgoing import Fanout

# What one client is to be sent, in order: the shared chunk, views of it, and its own replies.
Pieces = list[bytes | memoryview]


def streams(fanout: Fanout) -> tuple[bytes, dict[ClientId, Pieces]]:
    """The joined chunk every reader that sent nothing gets, and each sender's own pieces.

    A sender that is not a reader (catching up, or gone from the group) gets its replies only.
    """
    chunk = b"".join([posted for _, _, posted in fanout.posts if posted is not None])
    view = memoryview(chunk)
    readers = fanout.readers
    # Per sender: its pieces and the offset in ``chunk`` up to which they reach.
    senders: dict[ClientId, tuple[Pieces, list[int]]] = {}
    offset = 0
    for sender, reply, posted in fanout.posts:
        state = senders.get(sender)
        if state is None:
            state = senders[sender] = ([], [0])
        pieces, reached = state
        if offset > reached[0] and sender in readers:
            pieces.append(view[reached[0] : offset])
        if reply:  # empty: the reply goes out with another share of the commit (a /me line's split)
            pieces.append(reply)
        if posted is not None:
            offset += len(posted)
        reached[0] = offset  # its own message is skipped: the reply stands in its place
    own: dict[ClientId, Pieces] = {}
    for sender, (pieces, reached) in senders.items():
        if reached[0] < len(chunk) and sender in readers:
            pieces.append(view[reached[0] :])
        own[sender] = pieces
    return chunk, own
