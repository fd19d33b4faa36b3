"""Groups and their members: plain data and membership rules, no I/O."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from shared import fields

ClientId = int
# Client message ids remembered per group, so a resend is usually answered from memory; a miss is
# looked up in the store (issue 8 item 8: after a restart, or once an id has left this cache).
RECENT_CLIENT_IDS = 1024


@dataclass(slots=True)
class Group:
    """One chat group. ``members`` maps a connection to the name it joined as.

    ``last_seq`` is the newest seq handed out (stored or waiting for the turn's commit);
    ``stored_seq`` the newest one stored: a catch-up replay reads the store up to there.
    """

    group_id: int
    name: str
    password_hash: str
    last_seq: int = 0
    stored_seq: int = 0
    members: dict[ClientId, str] = field(default_factory=dict)
    # (sender name key, client_msg_id) -> (seq, ts)
    recent_client_ids: OrderedDict[tuple[str, str], tuple[int, int]] = field(default_factory=OrderedDict)
    # Members being sent the messages they missed (a Replay), with the seq their replay has reached:
    # left out of live message fan-out until it reaches stored_seq, so nothing is sent twice or skipped.
    # The position also tells a stale replay (from before a leave and rejoin) from the current one.
    catching_up: dict[ClientId, int] = field(default_factory=dict)
    # Recipients per member, built on first use and dropped when membership changes: every message
    # needs its recipients, membership changes are rare.
    _others: dict[ClientId, tuple[ClientId, ...]] = field(default_factory=dict)
    _live: frozenset[ClientId] | None = None
    # The members' name keys and confusable skeletons, kept beside ``members`` so a join does not
    # re-fold every name. Two names clash when either is equal ("BOB" and "Bob"; Cyrillic and Latin "Alice").
    _name_keys: set[str] = field(default_factory=set)
    _skeletons: set[str] = field(default_factory=set)
    # Members connected to other server processes (--store redis://), by member key "{node}/{client id}":
    # their names count for clashes and member lists; they are never recipients here.
    remote: dict[str, str] = field(default_factory=dict)
    remote_away: dict[str, str] = field(default_factory=dict)  # member key -> reason, while away

    def add(self, client_id: ClientId, name: str) -> None:
        self.members[client_id] = name
        self._name_keys.add(fields.name_key(name))
        self._skeletons.add(fields.name_skeleton(name))
        self._changed()

    def remove(self, client_id: ClientId) -> str | None:
        """Remove a member; returns the name it had, or None if it was not one."""
        self.catching_up.pop(client_id, None)
        self._changed()
        name = self.members.pop(client_id, None)
        if name is not None:
            self._name_keys.discard(fields.name_key(name))
            self._skeletons.discard(fields.name_skeleton(name))
        return name

    def rename(self, client_id: ClientId, name: str) -> str | None:
        """Give a member a new name; returns the old one, or None if another member's name clashes with
        ``name`` (its own never does: "alice" may become "Alice")."""
        old = self.members[client_id]
        old_key, old_skeleton = fields.name_key(old), fields.name_skeleton(old)
        self._name_keys.discard(old_key)
        self._skeletons.discard(old_skeleton)
        clash = self.name_in_use(name)
        kept = old if clash else name
        self.members[client_id] = kept
        self._name_keys.add(fields.name_key(kept))
        self._skeletons.add(fields.name_skeleton(kept))
        return None if clash else old

    def add_remote(self, key: str, name: str) -> None:
        self.remove_remote(key)
        self.remote[key] = name
        self._name_keys.add(fields.name_key(name))
        self._skeletons.add(fields.name_skeleton(name))

    def remove_remote(self, key: str) -> str | None:
        """Remove a member of another process; the name it had, or None if it was not one."""
        self.remote_away.pop(key, None)
        name = self.remote.pop(key, None)
        if name is not None:
            self._name_keys.discard(fields.name_key(name))
            self._skeletons.discard(fields.name_skeleton(name))
        return name

    @property
    def size(self) -> int:
        """Members here and on other processes."""
        return len(self.members) + len(self.remote)

    def _changed(self) -> None:
        self._others.clear()
        self._live = None

    def name_in_use(self, name: str) -> bool:
        return fields.name_key(name) in self._name_keys or fields.name_skeleton(name) in self._skeletons

    def member_names(self) -> tuple[str, ...]:
        return (*self.members.values(), *self.remote.values())

    def others(self, client_id: ClientId) -> tuple[ClientId, ...]:
        """Every member but ``client_id``: the recipients of membership news about that member."""
        others = self._others.get(client_id)
        if others is None:
            others = self._others[client_id] = tuple(cid for cid in self.members if cid != client_id)
        return others

    def live(self) -> frozenset[ClientId]:
        """The live recipients of the group's messages: every member but those catching up (their
        replay feeds them instead)."""
        live = self._live
        if live is None:
            live = self._live = frozenset(cid for cid in self.members if cid not in self.catching_up)
        return live

    def start_catching_up(self, client_id: ClientId, after_seq: int) -> None:
        self.catching_up[client_id] = after_seq
        self._changed()

    def caught_up(self, client_id: ClientId) -> None:
        del self.catching_up[client_id]
        self._changed()

    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq

    def remember_client_id(self, sender_key: str, client_msg_id: str, seq: int, ts: int) -> None:
        self.recent_client_ids[(sender_key, client_msg_id)] = (seq, ts)
        if len(self.recent_client_ids) > RECENT_CLIENT_IDS:
            self.recent_client_ids.popitem(last=False)


class GroupDirectory:
    """All groups, by id and by case-folded name and confusable skeleton, plus each connection's groups."""

    def __init__(self) -> None:
        self._by_id: dict[int, Group] = {}
        self._id_by_name: dict[str, int] = {}
        self._name_skeletons: set[str] = set()
        # A tuple, not a set: nearly every connection is in one or two groups, and a set of one is 216
        # bytes; a join or leave rebuilds it (at most max_groups_per_connection entries).
        self._memberships: dict[ClientId, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, group_id: int) -> Group | None:
        return self._by_id.get(group_id)

    def all(self) -> list[Group]:
        return list(self._by_id.values())

    def name_taken(self, name: str) -> bool:
        """Whether a group's name clashes with ``name``: the same key, or a look-alike (same skeleton)."""
        return fields.group_name_key(name) in self._id_by_name or fields.name_skeleton(name) in self._name_skeletons

    def add(self, group: Group) -> None:
        """Register a group (new, or loaded from the store)."""
        self._by_id[group.group_id] = group
        self._id_by_name[fields.group_name_key(group.name)] = group.group_id
        self._name_skeletons.add(fields.name_skeleton(group.name))

    def add_member(self, group: Group, client_id: ClientId, name: str) -> None:
        group.add(client_id, name)
        joined = self._memberships.get(client_id, ())
        if group.group_id not in joined:
            self._memberships[client_id] = (*joined, group.group_id)

    def remove_member(self, group: Group, client_id: ClientId) -> str | None:
        """Remove ``client_id`` from ``group``; returns the name it had, or None if not a member."""
        name = group.remove(client_id)
        joined = self._memberships.get(client_id)
        if joined is not None:
            if rest := tuple(gid for gid in joined if gid != group.group_id):
                self._memberships[client_id] = rest
            else:
                del self._memberships[client_id]
        return name

    def groups_of(self, client_id: ClientId) -> list[Group]:
        return [self._by_id[gid] for gid in sorted(self._memberships.get(client_id, ()))]
