"""Keys on the chat screen: Ctrl+L redraws as in every terminal program; it no longer leaves the group."""

from __future__ import annotations

from textual.widgets import TextArea

from chat_tui.app import ChatApp
from tests.tui.helpers import SIZE, connect, create_group, make_app


async def test_ctrl_l_redraws_and_keeps_you_in_the_group_with_your_draft(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        await pilot.press(*"half a thought")
        repaints: list[bool] = []
        refresh = app.refresh

        def spy(*, repaint: bool = True, layout: bool = False, recompose: bool = False) -> ChatApp:
            repaints.append(repaint)
            return refresh(repaint=repaint, layout=layout, recompose=recompose)

        app.refresh = spy  # type: ignore[method-assign]
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert True in repaints
        assert app.screen is chat
        assert chat.group_id in app.chats
        assert chat.query_one("#composer", TextArea).text == "half a thought"  # no form feed typed in
