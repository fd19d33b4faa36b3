"""A group's member list as ``group_joined`` plus ``member_list`` pages, each frame within the frame limit.

A thousand members with 32-emoji names is ~130 KB of names: no single frame can carry them
(issue 8 item 10). Names are packed greedily in order, by their encoded size, into the first frame
and then into as many ``member_list`` frames as needed; the last page has ``more`` false.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import msgpack

from shared import GroupJoined, MemberList, encode, limits

# An empty array encodes as 1 byte; up to 65,535 items its header takes 3, beyond that 5.
_ARRAY_HEADER_SLACK = 4


def _body_size(event: GroupJoined | MemberList) -> int:
    return len(encode(event)) - limits.HEADER_SIZE


def _take(names: Sequence[str], start: int, budget: int) -> int:
    """The end of the longest run of names from ``start`` whose encoding fits ``budget`` bytes."""
    end = start
    while end < len(names) and end - start < limits.MAX_MEMBERS_IN_FRAME:
        budget -= len(msgpack.packb(names[end]))
        if budget < 0:
            break
        end += 1
    return end


def member_pages(joined: GroupJoined, names: Sequence[str], max_body: int) -> list[GroupJoined | MemberList]:
    """``joined`` carrying the first page of ``names``, then the ``member_list`` frames for the rest.

    ``max_body`` is the largest frame body the client accepts (``welcome.max_frame_size``).
    Raises ValueError if even one name cannot fit, which a max_body of at least 1 KiB rules out.
    """
    head = dataclasses.replace(joined, members=(), more_members=True)
    end = _take(names, 0, max_body - _body_size(head) - _ARRAY_HEADER_SLACK)
    frames: list[GroupJoined | MemberList] = [
        dataclasses.replace(joined, members=tuple(names[:end]), more_members=end < len(names))
    ]
    page_overhead = _body_size(MemberList(joined.group_id, (), True)) + _ARRAY_HEADER_SLACK
    while end < len(names):
        start, end = end, _take(names, end, max_body - page_overhead)
        if end == start:
            raise ValueError(f"a member name does not fit in a {max_body}-byte frame")
        frames.append(MemberList(joined.group_id, tuple(names[start:end]), end < len(names)))
    return frames
