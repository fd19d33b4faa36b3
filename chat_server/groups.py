"""Groups and their members: plain data and membership rules, no I/O."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from shared import fields

ClientId = int
# Client message ids remembered per group, so a resend right after a reconnect is answered from
# memory; older ones are looked up in the store.
RECENT_CLIENT_IDS = 1024


@dataclass(slots=True)
class Group:
    """One chat group. ``members`` maps a connection to the name it joined as."""

    group_id: int
    name: str
    password_hash: str
    last_seq: int = 0
    members: dict[ClientId, str] = field(default_factory=dict)
    recent_client_ids: OrderedDict[tuple[str, str], tuple[int, int]] = field(default_factory=OrderedDict)
    # Members who joined with since_seq: they may resend messages stored before their reconnect, so
    # their client ids are also looked up in the store (everyone else's only in recent_client_ids).
    resuming: set[ClientId] = field(default_factory=set)
    # others() per member, built on first use and dropped when membership changes: every message
    # needs its recipients, membership changes are rare.
    _others: dict[ClientId, tuple[ClientId, ...]] = field(default_factory=dict)
    # The members' name keys, kept beside ``members`` so a join does not re-fold every name.
    _name_keys: set[str] = field(default_factory=set)

    def add(self, client_id: ClientId, name: str) -> None:
        self.members[client_id] = name
        self._name_keys.add(fields.name_key(name))
        self._others.clear()

    def remove(self, client_id: ClientId) -> str | None:
        """Remove a member; returns the name it had, or None if it was not one."""
        self.resuming.discard(client_id)
        self._others.clear()
        name = self.members.pop(client_id, None)
        if name is not None:
            self._name_keys.discard(fields.name_key(name))
        return name

    def name_in_use(self, name: str) -> bool:
        return fields.name_key(name) in self._name_keys

    def member_names(self) -> tuple[str, ...]:
        return tuple(self.members.values())

    def others(self, client_id: ClientId) -> tuple[ClientId, ...]:
        """Every member but ``client_id``: the recipients of what that member does."""
        others = self._others.get(client_id)
        if others is None:
            others = self._others[client_id] = tuple(cid for cid in self.members if cid != client_id)
        return others

    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq

    def remember_client_id(self, sender: str, client_msg_id: str, seq: int, ts: int) -> None:
        self.recent_client_ids[(sender, client_msg_id)] = (seq, ts)
        if len(self.recent_client_ids) > RECENT_CLIENT_IDS:
            self.recent_client_ids.popitem(last=False)


class GroupDirectory:
    """All groups, by id and by case-folded name, plus which groups each connection is in."""

    def __init__(self) -> None:
        self._by_id: dict[int, Group] = {}
        self._id_by_name: dict[str, int] = {}
        self._memberships: dict[ClientId, set[int]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, group_id: int) -> Group | None:
        return self._by_id.get(group_id)

    def name_taken(self, name: str) -> bool:
        return fields.group_name_key(name) in self._id_by_name

    def add(self, group: Group) -> None:
        """Register a group (new, or loaded from the store)."""
        self._by_id[group.group_id] = group
        self._id_by_name[fields.group_name_key(group.name)] = group.group_id

    def add_member(self, group: Group, client_id: ClientId, name: str) -> None:
        group.add(client_id, name)
        self._memberships.setdefault(client_id, set()).add(group.group_id)

    def remove_member(self, group: Group, client_id: ClientId) -> str | None:
        """Remove ``client_id`` from ``group``; returns the name it had, or None if not a member."""
        name = group.remove(client_id)
        joined = self._memberships.get(client_id)
        if joined is not None:
            joined.discard(group.group_id)
            if not joined:
                del self._memberships[client_id]
        return name

    def groups_of(self, client_id: ClientId) -> list[Group]:
        return [self._by_id[gid] for gid in sorted(self._memberships.get(client_id, ()))]
