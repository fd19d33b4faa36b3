"""RemoteMembers: a group's members on other server processes, as this process sees them, and the
frames that tell this process's members about them (member_joined, member_left, renames, presence).

Every change is by member key ("{node}/{client id}") and sets or removes one member, so news applied
twice, or over a fresher read of Redis, ends in the same view (see ``ClusterNode._snapshot``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_server.cluster.events import Joined, Left, MemberRenamed, Presence
from chat_server.cluster.roster import RemoteMember
from chat_server.groups import Group
from chat_server.outgoing import Action, Outgoing
from shared import MemberJoined, MemberLeft, MemberPresence

if TYPE_CHECKING:
    from chat_server.member_news import MemberNews


class RemoteMembers:
    """Applies other processes' member news to a group's ``remote`` view; ``news`` knows who asked for what."""

    def __init__(self, news: MemberNews) -> None:
        self.news = news

    def news_of(self, group: Group, event: Joined | Left | MemberRenamed | Presence) -> list[Action]:
        """One event of another process about one of its members."""
        key = f"{event.node}/{event.client_id}"
        match event:
            case Joined():
                return self.joined(group, key, event.name, event.reason if event.away else None)
            case Left():
                return self.left(group, key)
            case MemberRenamed():
                if key not in group.remote:
                    return []
                away = group.remote_away.get(key)
                group.add_remote(key, event.new)
                _set_away(group, key, away)
                return self.news.rename_news(group, tuple(group.members), event.old, event.new)
            case Presence():
                if key not in group.remote:
                    return []
                away = event.reason if event.away else None
                _set_away(group, key, away)
                return self.presence(group, event.name, away)

    def joined(self, group: Group, key: str, name: str, away: str | None) -> list[Action]:
        known = group.remote.get(key)
        if known == name:
            return []
        actions = self.left(group, key) if known is not None else []
        group.add_remote(key, name)
        _set_away(group, key, away)
        if group.members:
            actions.append(Outgoing(tuple(group.members), MemberJoined(group.group_id, name)))
            if away is not None:
                actions += self.presence(group, name, away)
        return actions

    def left(self, group: Group, key: str) -> list[Action]:
        name = group.remove_remote(key)
        if name is None or not group.members:
            return []
        return [Outgoing(tuple(group.members), MemberLeft(group.group_id, name))]

    def presence(self, group: Group, name: str, away: str | None) -> list[Action]:
        recipients = self.news.having(group.members, "presence")
        if not recipients:
            return []
        return [Outgoing(recipients, MemberPresence(group.group_id, name, away is not None, away or ""))]

    def now(self, group: Group, members: list[RemoteMember]) -> list[Action]:
        """Make the group's view of other processes' members what Redis says, telling the differences."""
        now = {f"{m.node}/{m.client_id}": m for m in members}
        actions: list[Action] = []
        for key in [key for key in group.remote if key not in now]:
            actions += self.left(group, key)
        for key, m in now.items():
            away = m.reason if m.away else None
            actions += self.joined(group, key, m.name, away)
            if key in group.remote and away != group.remote_away.get(key):
                _set_away(group, key, away)
                actions += self.presence(group, m.name, away)
        return actions


def _set_away(group: Group, key: str, away: str | None) -> None:
    """Mark a member of another process away (with its reason, maybe "") or back (None)."""
    if away is None:
        group.remote_away.pop(key, None)
    else:
        group.remote_away[key] = away
