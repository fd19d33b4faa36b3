"""Who is in a group, and who is only away for a reconnect: :class:`Roster`, part of a group's timeline.

A server restart drops every member at once, and each comes back on their own backoff: without care a
client that rejoined early sees "X has joined the chat!" for everyone who rejoins after it. So after a
reconnect the members we knew are *expected back*: their rejoin is silent, and those still missing
:data:`REJOIN_GRACE` seconds after ours get one "left" notice. Pure: time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable

REJOIN_GRACE = 15.0
"""Seconds after our rejoin within which a member we knew may rejoin silently. Their reconnect backoff
starts at 0.5 s and doubles (0.5 + 1 + 2 + 4 + 8 s if the server takes a while to come back), so a
restart brings everyone back well inside this; a member still missing after it has really gone."""


class Roster:
    """The member names of one group (ours included), in the order the server listed them.

    Args:
        members: the member list of the join (or just our name for a group we created).
        complete: False while ``member_list`` pages of the join are still to come.
    """

    def __init__(self, members: Iterable[str], *, complete: bool = True) -> None:
        self.members: list[str] = list(dict.fromkeys(members))
        self.complete = complete
        self._expected: set[str] = set()  # known before a reconnect, not back yet
        self._deadline: float | None = None
        self._typing: dict[str, float] = {}  # name -> when its "is typing" expires
        self._away: dict[str, str] = {}  # name -> reason, for members marked away

    # --- typing and presence (PROTOCOL.md §9) ---------------------------------------------------------

    def typing(self, name: str, until: float) -> None:
        """``name`` is typing until ``until`` (unless a message of theirs comes first)."""
        self._typing.pop(name, None)  # re-inserted last: the list is in order of the latest frame
        self._typing[name] = until

    def stopped_typing(self, name: str) -> bool:
        """``name`` posted (or left): no longer typing. True if it was shown as typing."""
        return self._typing.pop(name, None) is not None

    def typing_names(self, now: float) -> list[str]:
        """Who is typing at ``now``; expired entries are dropped."""
        for name in [name for name, until in self._typing.items() if until <= now]:
            del self._typing[name]
        return list(self._typing)

    def set_presence(self, name: str, away: bool, reason: str) -> None:
        if away:
            self._away[name] = reason
        else:
            self._away.pop(name, None)

    def presence(self, name: str) -> tuple[bool, str]:
        """(away, reason) of ``name``; a member never marked away is present."""
        reason = self._away.get(name)
        return (reason is not None, reason or "")

    def renamed(self, old: str, new: str) -> None:
        """``old`` is called ``new`` now: same place in the list, same presence; typing ends."""
        self.members = [new if name == old else name for name in self.members]
        if new not in self.members:
            self.members.append(new)
        self.members = list(dict.fromkeys(self.members))
        if old in self._expected:
            self._expected.discard(old)
            self._expected.add(new)
        self._typing.pop(old, None)
        if (reason := self._away.pop(old, None)) is not None:
            self._away[new] = reason

    def joined(self, name: str) -> bool:
        """``name`` joined; True if that is news (not a member we expected back after a reconnect)."""
        returning = name in self._expected
        self._expected.discard(name)
        if name not in self.members:
            self.members.append(name)
        return not returning

    def left(self, name: str) -> bool:
        """``name`` left; True if it was a member."""
        self._expected.discard(name)
        self._typing.pop(name, None)
        self._away.pop(name, None)
        if name in self.members:
            self.members.remove(name)
            return True
        return False

    def listed(self, members: Iterable[str], *, complete: bool = True) -> None:
        """The server's member list (a join's, or its pages completed): members now listed are back."""
        self.members = list(dict.fromkeys(members))
        self.complete = complete
        self._expected.difference_update(self.members)
        # Members expected back stay listed meanwhile: they were here a moment ago, most are on their way.
        self.members += sorted(self._expected)

    def rejoined(self, members: Iterable[str], *, complete: bool, now: float, grace: float = REJOIN_GRACE) -> None:
        """We rejoined after a reconnect with this (first page of the) member list; everyone else we
        knew has until ``now`` + ``grace`` to come back silently."""
        self._expected.update(self.members)
        self.listed(members, complete=complete)
        self._deadline = now + grace

    def overdue(self, now: float) -> list[str]:
        """Members we expected back who did not come in time; they are removed and returned (once)."""
        if self._deadline is None or now < self._deadline:
            return []
        gone = sorted(self._expected)
        self._expected.clear()
        self._deadline = None
        for name in gone:
            if name in self.members:
                self.members.remove(name)
        return gone

    @property
    def awaiting(self) -> bool:
        """Some members are expected back after a reconnect."""
        return self._deadline is not None
