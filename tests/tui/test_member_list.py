"""The member list marks us in a way no member's name can imitate (issue 8, item 16)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content

from chat_tui.widgets import MemberList


class _Host(App[None]):
    def __init__(self, you: str) -> None:
        super().__init__()
        self.you = you

    def compose(self) -> ComposeResult:
        yield MemberList(self.you, id="members")


async def _labels(you: str, names: list[str]) -> list[Content]:
    app = _Host(you)
    async with app.run_test() as pilot:
        members = app.query_one(MemberList)
        members.set_members(names)
        await pilot.pause()
        prompts = [members.get_option_at_index(i).prompt for i in range(members.option_count)]
    return [prompt if isinstance(prompt, Content) else Content(str(prompt)) for prompt in prompts]


async def test_a_name_cannot_forge_the_you_marker() -> None:
    (ours,) = await _labels("Bob", ["Bob"])
    forged = await _labels("Alice", ["Alice", "Bob (you)", "you", "you: Bob"])
    others = [label for label in forged if "Alice" not in label.plain]
    assert len(others) == 3
    for label in others:
        assert label.plain != ours.plain  # no other name renders as our row
        assert ":" not in label.plain  # the marker's colon is something no name shows
    assert "you: Bob" not in [label.plain for label in forged]


async def test_a_paged_list_says_it_is_incomplete_until_its_last_page() -> None:
    app = _Host("Alice")
    async with app.run_test() as pilot:
        members = app.query_one(MemberList)
        members.set_members(["Alice", "Bob"], complete=False)
        await pilot.pause()
        assert members.border_title == "Members (2…)"
        members.set_members(["Alice", "Bob", "Carol"])
        await pilot.pause()
        assert members.border_title == "Members (3)"
