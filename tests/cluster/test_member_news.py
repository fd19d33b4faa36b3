"""Renames, presence and typing news reach members connected to other processes, as on one process."""

from __future__ import annotations

from shared import MemberPresence, MemberTyping, PresenceSet, Rename, Renamed, SetPresence, Typing
from tests.cluster.conftest import Cluster


def test_a_rename_on_one_process_is_seen_and_enforced_on_the_others(cluster: Cluster) -> None:
    group_id, alice, bob, carol = cluster.one_group_on_three()

    assert alice.expect(lambda rid: Rename(rid, group_id, "alicia"), Renamed).name == "alicia"
    for member in (alice, bob, carol):
        member.wait_roster(group_id, {"alicia", "bob", "carol"})
    bob.refused(lambda rid: Rename(rid, group_id, "ALICIA"), "name_taken")  # taken on another process
    assert bob.expect(lambda rid: Rename(rid, group_id, "alice"), Renamed).name == "alice"  # freed there
    for member in (alice, bob, carol):
        member.wait_roster(group_id, {"alicia", "alice", "carol"})
    newcomer = cluster.member(cluster.nodes[2], "dan")
    assert set(newcomer.join(group_id, "pw").members) == {"alicia", "alice", "carol", "dan"}
    said = bob.post(group_id, "new name, same me")
    carol.wait_seq(group_id, said.seq)
    assert carol.posted(group_id)[-1].sender == "alice", "messages after a rename carry the new name"


def test_presence_and_typing_reach_the_other_processes(cluster: Cluster) -> None:
    group_id, alice, bob, carol = cluster.one_group_on_three()

    bob.expect(lambda rid: SetPresence(rid, True, "lunch"), PresenceSet)
    away = MemberPresence(group_id, "bob", True, "lunch")
    for member in (alice, carol):
        member.wait_event(away)
    newcomer = cluster.member(cluster.nodes[0], "dan")  # who is away is told to a joiner, whichever process they are on
    newcomer.join(group_id, "pw")
    newcomer.wait_event(away)

    carol.notify(Typing(group_id))
    typing = MemberTyping(group_id, "carol")
    for member in (alice, bob, newcomer):
        member.wait_event(typing)
