"""One group over several server processes works like a group on one: ids, passwords, names, resume
tokens, messages, history and member lists are the same whichever process a member is connected to."""

from __future__ import annotations

import pytest

from shared import CreateGroup, GroupJoined, HistoryEntry
from tests.cluster.conftest import Cluster
from tests.cluster.member import Member


def entries(history: list[HistoryEntry]) -> list[tuple[int, str, str]]:
    return [(e.seq, e.sender, e.text) for e in history]


def assert_same_history(members: list[Member], group_id: int, expected: list[tuple[int, str, str]]) -> None:
    """fetch_history through every member's process gives exactly ``expected``."""
    for member in members:
        assert entries(member.history(group_id)) == expected, f"history of group {group_id} read by {member.label}"


@pytest.mark.parametrize("processes", [2, 3])
def test_a_group_is_shared_by_every_process(cluster: Cluster, processes: int) -> None:
    nodes = cluster.start(processes)
    members = [cluster.member(node, f"m{node.label}") for node in nodes]
    group_id = members[0].create("team", "pw").group_id
    for member in members[1:]:
        member.join(group_id, "pw")
    everyone = {m.name for m in members}
    for member in members:
        member.wait_roster(group_id, everyone)

    said: list[tuple[int, str, str]] = []
    for member in members:
        text = f"hello from {member.label}"
        said.append((member.post(group_id, text).seq, member.name, text))
    assert [seq for seq, _, _ in said] == list(range(1, processes + 1)), "one seq sequence for the group"

    for member in members:
        others = [line for line in said if line[1] != member.name]
        posted = member.wait_posted(group_id, len(others))
        assert [(p.seq, p.sender, p.text) for p in posted] == others, f"messages posted to {member.label}"
    assert_same_history(members, group_id, said)


def test_history_and_member_lists_are_the_same_from_every_process(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    alice, bob, carol, dan, erin = (
        cluster.member(n, name) for n, name in ((a, "alice"), (b, "bob"), (c, "carol"), (a, "dan"), (b, "erin"))
    )
    group_id = alice.create("team", "pw").group_id
    for member in (bob, carol, dan, erin):
        member.join(group_id, "pw")
    members = [alice, bob, carol, dan, erin]
    for member in members:
        member.wait_roster(group_id, {m.name for m in members})

    said = [(m.post(group_id, f"{i}: {m.name} here").seq, m.name, f"{i}: {m.name} here") for i, m in
            enumerate(members * 3)]  # fmt: skip
    for member in members:
        member.wait_posted(group_id, sum(1 for line in said if line[1] != member.name))
    assert_same_history(members, group_id, said)

    bob.leave(group_id)  # news of a leave_group on B ...
    dan.close()  # ... and of a disconnection on A reach every process
    stayers = [alice, carol, erin]  # one on each process
    expected = {m.name for m in stayers}
    for member in stayers:
        member.wait_roster(group_id, expected)

    for node in (a, b, c):
        newcomer = cluster.member(node, f"new{node.label}")
        joined = newcomer.join(group_id, "pw")
        expected.add(newcomer.name)
        assert set(joined.members) == expected, f"{newcomer.label} was given the members {joined.members}"
        assert (joined.group_name, joined.last_seq) == ("team", len(said)), f"{newcomer.label} joined {joined!r}"
        # The replay of the last messages on join is the same log, read by another process.
        replay = newcomer.wait_posted(group_id, len(said))
        assert [(p.seq, p.sender, p.text) for p in replay] == said, f"replay to {newcomer.label}"
        stayers.append(newcomer)
        for member in stayers:  # every process has heard of the newcomer before the next one joins
            member.wait_roster(group_id, expected)
    assert_same_history(stayers, group_id, said)


def test_a_member_back_on_another_process_catches_up_from_where_it_left(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    alice, bob, carol = cluster.member(a, "alice"), cluster.member(b, "bob"), cluster.member(c, "carol")
    group_id = alice.create("team", "pw").group_id
    for member in (bob, carol):
        member.join(group_id, "pw")
    for member in (alice, bob, carol):
        member.wait_roster(group_id, {"alice", "bob", "carol"})
    said = [(alice.post(group_id, f"before {i}").seq, "alice", f"before {i}") for i in range(5)]
    bob.wait_posted(group_id, 5)
    bob.close()
    for member in (alice, carol):  # C has heard bob left before he is back there under his name
        member.wait_roster(group_id, {"alice", "carol"})
    said += [(alice.post(group_id, f"while away {i}").seq, "alice", f"while away {i}") for i in range(5)]

    back = cluster.member(c, "bob")
    joined = back.join(group_id, "pw", since_seq=said[4][0])
    assert joined.last_seq == said[-1][0], f"{back.label} joined {joined!r}"
    replay = back.wait_posted(group_id, 5)
    assert [(p.seq, p.sender, p.text) for p in replay] == said[5:], f"catch-up replay to {back.label}"
    said.append((alice.post(group_id, "welcome back").seq, "alice", "welcome back"))  # and live from there
    back.wait_seq(group_id, said[-1][0])
    back.assert_posted(group_id, said[5:])


def test_a_group_created_on_one_process_is_joined_on_another_with_its_id_and_password(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    alice, bob, eve = cluster.member(a, "alice"), cluster.member(b, "bob"), cluster.member(b, "eve")
    first = alice.create("team", "s3cret").group_id

    eve.refused(eve.joining(first, "wrong"), "bad_credentials")
    eve.refused(eve.joining(first + 1, "s3cret"), "bad_credentials")  # no such group (yet) anywhere
    joined = bob.join(first, "s3cret")
    assert (joined.group_id, joined.group_name, set(joined.members)) == (first, "team", {"alice", "bob"})

    # Ids and group names are the deployment's, not a process's.
    bob.refused(lambda rid: CreateGroup(rid, "TEAM", "x", "bob"), "group_name_taken")
    second = bob.create("ops", "other").group_id
    assert second == first + 1, "group ids come from one sequence shared by every process"
    alice.join(second, "other")
    for member in (alice, bob):
        member.wait_roster(second, {"alice", "bob"})


def test_a_resume_token_from_one_process_works_on_another(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    alice = cluster.member(a, "alice")
    created = alice.create("team", "pw")
    group_id = created.group_id
    # One member on every process: waiting for each to see a leave means every process has heard of it
    # (a process checks look-alike names against its own view).
    watchers = [cluster.member(node, f"watcher{node.label}") for node in (a, b, c)]
    for watcher in watchers:
        watcher.join(group_id, "pw")
    for watcher in watchers:
        watcher.wait_roster(group_id, {"alice", *(w.name for w in watchers)})
    alice.close()
    for watcher in watchers:
        watcher.wait_roster(group_id, {w.name for w in watchers})

    alice_on_b = cluster.member(b, "alice")
    joined = alice_on_b.join(group_id, resume_token=created.resume_token)
    assert joined.name == "alice"
    for watcher in watchers:
        watcher.wait_roster(group_id, {"alice", *(w.name for w in watchers)})
    alice_on_b.close()
    for watcher in watchers:
        watcher.wait_roster(group_id, {w.name for w in watchers})

    alice_on_a = cluster.member(a, "Alice")  # a token goes by the name's key, on every process
    assert alice_on_a.join(group_id, resume_token=joined.resume_token).name == "Alice"
    stranger = cluster.member(c, "mallory")
    stranger.refused(stranger.joining(group_id, resume_token=joined.resume_token), "bad_credentials")


def test_a_name_is_taken_across_processes(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    alice = cluster.member(a, "alice")
    group_id = alice.create("team", "pw").group_id
    for node, name in (
        (b, "alice"),
        (c, "ALICE"),
        (b, "\uff21\uff4c\uff49\uff43\uff45"),
    ):  # one name key: fullwidth too
        other = cluster.member(node, name)
        other.refused(other.joining(group_id, "pw"), "name_taken")

    bob, carol = cluster.member(b, "bob"), cluster.member(c, "carol")
    for member in (bob, carol):
        member.join(group_id, "pw")
    for member in (alice, bob, carol):
        member.wait_roster(group_id, {"alice", "bob", "carol"})
    alice.leave(group_id)
    for member in (bob, carol):  # every process has heard: C checks look-alikes against its own view
        member.wait_roster(group_id, {"bob", "carol"})
    cluster.member(c, "Alice").join(group_id, "pw")  # free again, on another process


def test_one_name_claimed_on_two_processes_at_once_goes_to_one_of_them(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    owner = cluster.member(a, "owner")
    group_id = owner.create("team", "pw").group_id
    for round_no in range(5):
        name = f"dave{round_no}"
        rivals = [cluster.member(a, name), cluster.member(b, name)]
        pending = [(rival, rival.submit(rival.joining(group_id, "pw"))) for rival in rivals]
        replies = {rival.label: rival.reply(request_id) for rival, request_id in pending}
        winners = [label for label, reply in replies.items() if isinstance(reply, GroupJoined)]
        losers = [label for label, reply in replies.items() if getattr(reply, "code", None) == "name_taken"]
        assert (len(winners), len(losers)) == (1, 1), f"both asked for {name!r} at once: {replies}"
        owner.wait_roster(group_id, {"owner", *(f"dave{i}" for i in range(round_no + 1))})
