"""News about members that is never stored: typing, presence (away) and renames (PROTOCOL.md §9).

Each is an optional feature: a connection names the features it understands in ``hello``, and only
those connections are sent a feature's frames; the others get nothing new (typing, presence) or what
they already understand (a rename is a ``member_left`` of the old name and a ``member_joined`` of the
new one). Pure, like the core: every call takes ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.outgoing import Action, Outgoing, refusal
from chat_server.ratelimit import TokenBucket
from chat_server.resume import ResumeTokens
from shared import (
    FEATURES,
    MemberJoined,
    MemberLeft,
    MemberPresence,
    MemberRenamed,
    MemberTyping,
    PresenceSet,
    Rename,
    Renamed,
    SetPresence,
    Typing,
    fields,
)

if TYPE_CHECKING:
    from chat_server.cluster.node import ClusterNode

OFFERED = frozenset(FEATURES)
"""What this server offers in ``welcome.features``."""


class MemberNews:
    """Which connection asked for which feature, who is away, and the frames for typing and renames."""

    def __init__(self, config: ServerConfig, groups: GroupDirectory, tokens: ResumeTokens) -> None:
        self.config, self.groups, self.tokens = config, groups, tokens
        self._features: dict[ClientId, frozenset[str]] = {}  # only connections that asked for any
        self._typing: dict[ClientId, TokenBucket] = {}  # made on first use: most clients never type
        self._news: dict[ClientId, TokenBucket] = {}
        self._away: dict[ClientId, str] = {}  # connection -> reason ("" for none)
        self.cluster: ClusterNode | None = None  # set when this process shares groups over Redis

    def hello(self, client_id: ClientId, asked: Iterable[str]) -> tuple[str, ...]:
        """Remember what the connection asked for; the ``welcome.features`` to answer (() if it asked nothing)."""
        asked = frozenset(asked)
        if not asked:
            return ()
        self._features[client_id] = asked & OFFERED
        return FEATURES

    def forget(self, client_id: ClientId) -> None:
        for table in (self._features, self._typing, self._news, self._away):
            table.pop(client_id, None)

    def wants(self, client_id: ClientId, feature: str) -> bool:
        """Whether the connection asked for ``feature`` (and this server offers it)."""
        return feature in self._features.get(client_id, ())

    def with_feature(self, clients: frozenset[ClientId], feature: str) -> frozenset[ClientId]:
        """Those of ``clients`` that asked for ``feature``."""
        features = self._features
        return frozenset(cid for cid in clients if feature in features.get(cid, ()))

    @property
    def away_reasons(self) -> dict[ClientId, str]:
        """The connections that are away, with their reasons ("" for none)."""
        return self._away

    def having(self, recipients: Iterable[ClientId], feature: str) -> tuple[ClientId, ...]:
        """Those of ``recipients`` that asked for ``feature``."""
        return self._with(recipients, feature)

    def _with(self, recipients: Iterable[ClientId], feature: str) -> tuple[ClientId, ...]:
        features = self._features
        return tuple(cid for cid in recipients if feature in features.get(cid, ()))

    def _without(self, recipients: Iterable[ClientId], feature: str) -> tuple[ClientId, ...]:
        features = self._features
        return tuple(cid for cid in recipients if feature not in features.get(cid, ()))

    # --- typing ---------------------------------------------------------------------------------------

    def typing(self, client_id: ClientId, event: Typing, now: float) -> list[Action]:
        """Pass a typing notice on to the other members who asked; dropped (silently) for a group the
        connection is not in, or beyond its typing rate: a hint is never worth an error frame."""
        group = self.groups.get(event.group_id)
        if group is None or (name := group.members.get(client_id)) is None:
            return []
        bucket = self._typing.get(client_id)
        if bucket is None:
            bucket = self._typing[client_id] = TokenBucket(self.config.typing_rate, self.config.typing_burst)
        if not bucket.take(now):
            return []
        recipients = self._with(group.others(client_id), "typing")
        actions: list[Action] = [Outgoing(recipients, MemberTyping(group.group_id, name))] if recipients else []
        if self.cluster is not None and group.remote:
            actions.append(self.cluster.typing(group.group_id, name))
        return actions

    # --- presence -------------------------------------------------------------------------------------

    def set_presence(self, client_id: ClientId, request: SetPresence, now: float) -> list[Action]:
        """Mark the connection away or back and tell every group it is in."""
        if refused := self._over_rate(client_id, request.request_id, now):
            return refused
        reason = request.reason if request.away else ""
        if request.away:
            self._away[client_id] = reason
        else:
            self._away.pop(client_id, None)
        actions: list[Action] = [Outgoing((client_id,), PresenceSet(request.request_id, request.away, reason))]
        if self.cluster is not None and (joined := self.groups.groups_of(client_id)):
            actions.append(self.cluster.presence(client_id, [g.group_id for g in joined], request.away, reason))
        for group in self.groups.groups_of(client_id):
            recipients = self._with(group.members, "presence")
            if recipients:
                news = MemberPresence(group.group_id, group.members[client_id], request.away, reason)
                actions.append(Outgoing(recipients, news))
        return actions

    def on_join(self, group: Group, client_id: ClientId) -> tuple[list[Action], list[Action]]:
        """A member was admitted: (for the joiner, each away member's presence; for the others, the
        joiner's, if it is away)."""
        to_joiner: list[Action] = []
        if "presence" in self._features.get(client_id, ()):
            for cid, name in group.members.items():
                if cid != client_id and (reason := self._away.get(cid)) is not None:
                    to_joiner.append(Outgoing((client_id,), MemberPresence(group.group_id, name, True, reason)))
            for key, reason in group.remote_away.items():  # members of other processes (--store redis://)
                to_joiner.append(
                    Outgoing((client_id,), MemberPresence(group.group_id, group.remote[key], True, reason))
                )
        to_others: list[Action] = []
        reason = self._away.get(client_id)
        if reason is not None and (recipients := self._with(group.others(client_id), "presence")):
            news = MemberPresence(group.group_id, group.members[client_id], True, reason)
            to_others.append(Outgoing(recipients, news))
        return to_joiner, to_others

    # --- renames --------------------------------------------------------------------------------------

    def rename(self, client_id: ClientId, request: Rename, now: float) -> list[Action]:
        """Take a new name in one group: the checks of a join, then the news to the others."""
        rid, group = request.request_id, self.groups.get(request.group_id)
        if group is None or client_id not in group.members:
            return refusal(client_id, rid, "not_member", f"you are not in group {request.group_id}")
        if refused := self._over_rate(client_id, rid, now):
            return refused
        old = group.rename(client_id, request.name)
        if old is None:
            message = f"someone in this group is already called {request.name!r} (or a name that looks the same)"
            return refusal(client_id, rid, "name_taken", message)
        token = self.tokens.issue(group.group_id, fields.name_key(request.name), now)
        actions: list[Action] = [Outgoing((client_id,), Renamed(rid, group.group_id, request.name, token))]
        actions += self.rename_news(group, group.others(client_id), old, request.name)
        if self.cluster is not None:
            actions.append(self.cluster.renamed(group.group_id, client_id, request.name))
        return actions

    def rename_news(self, group: Group, recipients: tuple[ClientId, ...], old: str, new: str) -> list[Action]:
        """A member's rename told to ``recipients``: as itself to those that asked for "rename", as a
        leave and a join to the others."""
        actions: list[Action] = []
        if knowing := self._with(recipients, "rename"):
            actions.append(Outgoing(knowing, MemberRenamed(group.group_id, old, new)))
        if older := self._without(recipients, "rename"):
            actions.append(Outgoing(older, MemberLeft(group.group_id, old)))
            actions.append(Outgoing(older, MemberJoined(group.group_id, new)))
        return actions

    def _over_rate(self, client_id: ClientId, request_id: int, now: float) -> list[Action]:
        bucket = self._news.get(client_id)
        if bucket is None:
            bucket = self._news[client_id] = TokenBucket(self.config.member_news_rate, self.config.member_news_burst)
        if bucket.take(now):
            return []
        wait = bucket.next_token_at(now) - now
        message = f"too many renames and presence changes; try again in {math.ceil(wait)} s"
        return refusal(client_id, request_id, "rate_limited", message, wait)
