"""Name colours: stable across runs, spread over the palette, each readable on the theme's background."""

from __future__ import annotations

import subprocess
import sys

from textual.color import Color
from textual.content import Content
from textual.style import Style

from chat_tui.app import ChatApp
from chat_tui.name_colours import BACKGROUNDS, MIN_CONTRAST, PALETTE, contrast_ratio, name_colour
from chat_tui.session.entries import Entry
from chat_tui.widgets.entry_rows import entry_body
from chat_tui.widgets.member_list import MemberList


def test_a_name_has_the_same_colour_in_every_run_and_every_spelling() -> None:
    # Another interpreter has another str hash seed: the colour must not depend on it.
    code = "from chat_tui.name_colours import name_colour; print(name_colour('Alice'), name_colour('bob'))"
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(3)
    }
    assert runs == {f"{name_colour('Alice')} {name_colour('bob')}\n"}
    assert name_colour("Bob") == name_colour("BOB") == name_colour("bob")


def test_different_names_spread_over_the_whole_palette() -> None:
    colours = [name_colour(f"user{n}") for n in range(200)]
    assert set(colours) == set(PALETTE)
    assert max(colours.count(c) for c in PALETTE) < 200 / len(PALETTE) * 2


def test_every_palette_colour_is_readable_on_the_theme_background() -> None:
    assert contrast_ratio("#FFFFFF", "#000000") == 21.0  # the WCAG formula's own check
    assert round(contrast_ratio("#767676", "#FFFFFF"), 2) == 4.54
    variables = ChatApp().get_css_variables()  # the theme the app runs with
    assert {variables["background"].upper(), variables["surface"].upper()} == set(BACKGROUNDS)
    low = {(c, b): contrast_ratio(c, b) for c in PALETTE for b in BACKGROUNDS if contrast_ratio(c, b) < MIN_CONTRAST}
    assert not low
    assert len(set(PALETTE)) == len(PALETTE) >= 8


def test_the_pane_and_the_member_list_draw_a_name_in_its_colour() -> None:
    body = entry_body(Entry("message", "hi", sender="Alice", time="12:00"), lambda _component: Style())
    colours = {span.style.foreground for span in body.spans if hasattr(span.style, "foreground")}
    assert Color.parse(name_colour("Alice")) in colours
    label = MemberList("Bob")._label("Alice", False)
    assert any(getattr(span.style, "foreground", None) == Color.parse(name_colour("Alice")) for span in label.spans)


def test_light_themes_get_the_same_hues_darkened_to_stay_readable() -> None:
    from chat_tui.name_colours import LIGHT_BACKGROUNDS, LIGHT_PALETTE

    app = ChatApp()
    for theme in ("textual-light", "solarized-light", "catppuccin-latte"):
        app.theme = theme
        variables = app.get_css_variables()
        assert {variables["background"].upper(), variables["surface"].upper()} <= set(LIGHT_BACKGROUNDS)
    low = [(c, b) for c in LIGHT_PALETTE for b in LIGHT_BACKGROUNDS if contrast_ratio(c, b) < MIN_CONTRAST]
    assert not low
    assert len(LIGHT_PALETTE) == len(PALETTE)
    for n in range(50):  # a name keeps its place in the palette, so its hue, across themes
        name = f"user{n}"
        assert PALETTE.index(name_colour(name)) == LIGHT_PALETTE.index(name_colour(name, dark=False))


async def test_the_member_list_recolours_names_for_a_light_theme() -> None:
    from textual.app import App, ComposeResult

    class Members(App[None]):
        def compose(self) -> ComposeResult:
            yield MemberList("Bob")

    app = Members()
    async with app.run_test() as pilot:
        members = app.query_one(MemberList)
        members.set_members(["Alice", "Bob"])
        await pilot.pause()

        def alice_colour() -> object:
            label = members.get_option_at_index(0).prompt
            assert isinstance(label, Content)
            return next(span.style.foreground for span in label.spans if hasattr(span.style, "foreground"))

        assert alice_colour() == Color.parse(name_colour("Alice"))
        app.theme = "textual-light"
        await pilot.pause()
        assert alice_colour() == Color.parse(name_colour("Alice", dark=False))
