"""ChatCore without sockets: routing, membership rules and the password-work hand-off."""

from __future__ import annotations

from chat_server.config import ServerConfig
from chat_server.core import Action, ChatCore, Fanout, HashPassword, Outgoing, VerifyPassword
from chat_server.store import MemoryStore
from shared import (
    CreateGroup,
    Error,
    Event,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessageAccepted,
    MessagePosted,
    SendMessage,
    decode,
)

NOW = 1_795_665_680.0


def sends(actions: list[Action]) -> list[tuple[tuple[int, ...], Event]]:
    """Every frame the actions send, as (recipients, event); pre-encoded frames are decoded back.

    A Fanout gives, per message, its reply to the sender, then its post to the live members but the sender.
    """
    found: list[tuple[tuple[int, ...], Event]] = []
    for a in actions:
        if isinstance(a, Outgoing):
            found.append((a.recipients, a.event))
        elif isinstance(a, Fanout):
            for sender, reply, posted in a.posts:
                found.append(((sender,), decode(reply[4:])))
                if posted is not None:
                    found.append((tuple(sorted(a.readers - {sender})), decode(posted[4:])))
    return found


def make_core(*clients: int) -> ChatCore:
    core = ChatCore(ServerConfig(), MemoryStore(), decoy_hash="decoy")
    for cid in clients:
        core.connect(cid, "127.0.0.1")
    return core


def create(core: ChatCore, cid: int, group: str = "team", name: str = "Alice") -> GroupCreated:
    request = CreateGroup(1, group, "pw", name)
    [job] = core.handle(cid, request, NOW)
    assert job == HashPassword(cid, request)
    [(to, created)] = sends(core.finish_create(cid, request, "hash-of-pw", NOW))
    assert to == (cid,)
    assert isinstance(created, GroupCreated)
    return created


def join(core: ChatCore, cid: int, group_id: int, name: str, ok: bool = True) -> list[Action]:
    request = JoinGroup(2, group_id, "pw", name)
    actions = core.handle(cid, request, NOW)
    if len(actions) == 1 and isinstance(actions[0], VerifyPassword):
        return core.finish_join(cid, request, ok, NOW)
    return actions


def test_create_makes_the_creator_a_member_with_id_1() -> None:
    core = make_core(1)
    created = create(core, 1)
    assert created.group_id == 1
    assert created.name == "Alice"
    group = core.groups.get(1)
    assert group is not None
    assert group.members == {1: "Alice"}
    assert group.password_hash == "hash-of-pw"


def test_group_names_are_unique_case_insensitively() -> None:
    core = make_core(1, 2)
    create(core, 1, "Team")
    [(_, error)] = sends(core.handle(2, CreateGroup(5, "TEAM", "pw", "Bob"), NOW))
    assert isinstance(error, Error)
    assert (error.request_id, error.code) == (5, "group_name_taken")


def test_join_verifies_against_the_stored_hash_and_announces_the_newcomer() -> None:
    core = make_core(1, 2)
    create(core, 1)
    [job] = core.handle(2, JoinGroup(2, 1, "pw", "Bob"), NOW)
    assert isinstance(job, VerifyPassword)
    assert job.stored_hash == "hash-of-pw"
    [(to_bob, joined), news] = sends(core.finish_join(2, job.request, True, NOW))
    assert to_bob == (2,)
    assert isinstance(joined, GroupJoined)
    assert joined == GroupJoined(2, 1, "team", "Bob", ("Alice", "Bob"), 0, resume_token=joined.resume_token)
    assert news == ((1,), MemberJoined(1, "Bob"))


def test_unknown_group_is_checked_against_the_decoy_and_refused_like_a_wrong_password() -> None:
    core = make_core(1, 2)
    create(core, 1)
    [job] = core.handle(2, JoinGroup(2, 99, "pw", "Bob"), NOW)
    assert isinstance(job, VerifyPassword)
    assert job.stored_hash == "decoy"
    unknown = sends(core.finish_join(2, job.request, True, NOW))
    wrong = sends(join(core, 2, 1, "Bob", ok=False))
    assert unknown == wrong == [((2,), Error(2, "bad_credentials", "wrong group ID or password"))]


def test_a_name_is_unique_within_a_group() -> None:
    core = make_core(1, 2)
    create(core, 1)
    [(_, error)] = sends(join(core, 2, 1, "alice"))
    assert isinstance(error, Error)
    assert error.code == "name_taken"


def test_joining_twice_is_refused() -> None:
    core = make_core(1)
    create(core, 1)
    [(_, error)] = sends(join(core, 1, 1, "Other"))
    assert isinstance(error, Error)
    assert error.code == "already_member"


def test_message_is_acknowledged_to_the_sender_and_posted_to_the_others_only() -> None:
    core = make_core(1, 2, 3)
    create(core, 1)
    join(core, 2, 1, "Bob")
    join(core, 3, 1, "Carol")
    assert core.handle(2, SendMessage(7, 1, "hi all"), NOW) == []  # nothing before the commit
    out = sends(core.commit())
    ts = int(NOW * 1000)
    assert out == [((2,), MessageAccepted(7, 1, 1, ts)), ((1, 3), MessagePosted(1, 1, ts, "Bob", "hi all"))]
    core.handle(1, SendMessage(8, 1, "again"), NOW + 1)
    second = sends(core.commit())
    assert second[0][1] == MessageAccepted(8, 1, 2, ts + 1000)


def test_non_members_cannot_post_or_leave() -> None:
    core = make_core(1, 2)
    create(core, 1)
    [(_, post_error)] = sends(core.handle(2, SendMessage(3, 1, "sneaky"), NOW))
    [(_, leave_error)] = sends(core.handle(2, LeaveGroup(4, 1), NOW))
    assert isinstance(post_error, Error)
    assert isinstance(leave_error, Error)
    assert post_error.code == leave_error.code == "not_member"


def test_leave_replies_and_tells_the_rest() -> None:
    core = make_core(1, 2)
    create(core, 1)
    join(core, 2, 1, "Bob")
    assert sends(core.handle(2, LeaveGroup(9, 1), NOW)) == [((2,), GroupLeft(9, 1)), ((1,), MemberLeft(1, "Bob"))]
    group = core.groups.get(1)
    assert group is not None
    assert group.members == {1: "Alice"}


def test_disconnect_leaves_every_group() -> None:
    core = make_core(1, 2)
    create(core, 1, "one")
    create(core, 1, "two", name="Al")
    join(core, 2, 1, "Bob")
    join(core, 2, 2, "Bob")
    assert sends(core.disconnect(2)) == [((1,), MemberLeft(1, "Bob")), ((1,), MemberLeft(2, "Bob"))]
    assert core.groups.groups_of(2) == []


def test_results_for_a_client_that_left_while_hashing_are_dropped() -> None:
    core = make_core(1)
    request = CreateGroup(1, "team", "pw", "Alice")
    core.handle(1, request, NOW)
    core.disconnect(1)
    assert core.finish_create(1, request, "hash", NOW) == []
    assert len(core.groups) == 0


def test_create_race_lost_while_hashing_is_refused() -> None:
    core = make_core(1, 2)
    first, second = CreateGroup(1, "team", "pw", "A"), CreateGroup(1, "Team", "pw", "B")
    core.handle(1, first, NOW)
    core.handle(2, second, NOW)
    core.finish_create(1, first, "h1", NOW)
    [(_, error)] = sends(core.finish_create(2, second, "h2", NOW))
    assert isinstance(error, Error)
    assert error.code == "group_name_taken"
