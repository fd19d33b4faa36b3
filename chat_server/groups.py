"""Groups and their members: plain data and membership rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import fields

ClientId = int


@dataclass(slots=True)
class Group:
    """One chat group. ``members`` maps a connection to the name it joined as."""

    group_id: int
    name: str
    password_hash: str
    members: dict[ClientId, str] = field(default_factory=dict)
    last_seq: int = 0

    def name_in_use(self, name: str) -> bool:
        key = fields.name_key(name)
        return any(fields.name_key(member) == key for member in self.members.values())

    def member_names(self) -> tuple[str, ...]:
        return tuple(self.members.values())

    def others(self, client_id: ClientId) -> tuple[ClientId, ...]:
        """Every member but ``client_id``: the recipients of what that member does."""
        return tuple(cid for cid in self.members if cid != client_id)

    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq


class GroupDirectory:
    """All groups, by id and by case-folded name, plus which groups each connection is in."""

    def __init__(self) -> None:
        self._by_id: dict[int, Group] = {}
        self._id_by_name: dict[str, int] = {}
        self._memberships: dict[ClientId, set[int]] = {}
        self._last_id = 0

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, group_id: int) -> Group | None:
        return self._by_id.get(group_id)

    def name_taken(self, name: str) -> bool:
        return fields.group_name_key(name) in self._id_by_name

    def create(self, name: str, password_hash: str) -> Group:
        """A new group with the next id; the caller checked :meth:`name_taken`."""
        self._last_id += 1
        group = Group(self._last_id, name, password_hash)
        self._by_id[group.group_id] = group
        self._id_by_name[fields.group_name_key(name)] = group.group_id
        return group

    def add_member(self, group: Group, client_id: ClientId, name: str) -> None:
        group.members[client_id] = name
        self._memberships.setdefault(client_id, set()).add(group.group_id)

    def remove_member(self, group: Group, client_id: ClientId) -> str | None:
        """Remove ``client_id`` from ``group``; returns the name it had, or None if not a member."""
        name = group.members.pop(client_id, None)
        joined = self._memberships.get(client_id)
        if joined is not None:
            joined.discard(group.group_id)
            if not joined:
                del self._memberships[client_id]
        return name

    def groups_of(self, client_id: ClientId) -> list[Group]:
        return [self._by_id[gid] for gid in sorted(self._memberships.get(client_id, ()))]
