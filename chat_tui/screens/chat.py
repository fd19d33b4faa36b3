"""ChatScreen: one group's scrollback, members and composer, kept while the user is elsewhere.

The screen shows its group's :class:`~chat_tui.session.GroupTimeline`: the pane renders the timeline's
entries and the member list follows its roster. It keeps no facts of its own about the conversation;
it turns the user's actions (scrolling to the top, a gap coming on screen, sending, leaving) into calls
on the timeline and the session.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from chat_tui.sanitize import sanitize_line
from chat_tui.screens.form import for_people
from chat_tui.session import ChatSession, GroupTimeline, LinkError, MembersChanged, News, Refused, RequestRefused
from chat_tui.widgets import Composer, ConnectionBanner, MemberList, MessagePane
from shared import InvalidField, fields, limits

LEAVE_COMMANDS = frozenset({"qqq", "/leave"})
"""Lines that leave the group instead of being sent."""
_MODIFIERS = frozenset({"ctrl", "alt", "meta", "super", "hyper"})
"""Key-name prefixes of a shortcut, not typing (shift only changes the character)."""
COUNT_FROM = limits.MAX_TEXT_LENGTH * 9 // 10
"""The composer shows its length (in code points, as the server counts) from here up."""


class ChatScreen(Screen[None]):
    """Chat in the group of ``timeline``.

    Args:
        session: the app's chat session (None only in tests without a network: sending says so).
        timeline: the group's conversation (``session.timeline(group_id)``).
    """

    AUTO_FOCUS = "#composer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "home", "Groups"),
        # Priority: the composer has focus and TextArea would take Page Up/Down for its cursor.
        Binding("pageup", "page_up", "Older", show=False, priority=True),
        Binding("pagedown", "page_down", "Newer", show=False, priority=True),
        # End belongs to the composer's line; Ctrl+End jumps the messages to the newest from anywhere.
        Binding("ctrl+end", "newest", "Newest", show=False, priority=True),
    ]

    class Left(Message):
        """We left the group: the app forgets this screen."""

        def __init__(self, group_id: int) -> None:
            super().__init__()
            self.group_id = group_id

    def __init__(self, session: ChatSession | None, timeline: GroupTimeline) -> None:
        super().__init__()
        self.session = session
        self.timeline = timeline
        self.group_id = timeline.group_id
        self.group_name = timeline.group_name
        self.you = timeline.you
        self.history_requests = 0
        """How many pages of older history this screen asked for (each scroll to the top asks once)."""
        self._stop_news: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        """Title bar, connection banner, messages beside members, composer, footer."""
        yield Static(self._title(), id="chat-title")
        yield ConnectionBanner(id="banner")
        with Horizontal(id="chat-body"):
            yield MessagePane(self.timeline.entries, id="messages")
            yield MemberList(self.you, id="members")
        with Horizontal(id="composer-status"):
            yield Static("", id="composer-reason", markup=False)
            yield Static("", id="composer-count", markup=False)
        yield Composer(
            id="composer",
            placeholder="Message (Enter sends; qqq or /leave leaves; Esc: groups)",
            check=fields.message_text,
        )
        yield Footer()

    def _title(self) -> Content:
        return Content.assemble(
            (sanitize_line(self.group_name), "bold"),
            ("  ·  group ID ", "dim"),
            (str(self.group_id), "bold $accent"),
            ("  ·  you are ", "dim"),
            (sanitize_line(self.you), "bold"),
        )

    def on_mount(self) -> None:
        """Follow the timeline: its members now and as they change, its refusals; lend it the viewport."""
        self._show_members()
        self._stop_news = self.timeline.listen(self._news)
        self.timeline.viewport = self.pane.visible_range  # the timeline trims the end away from it

    def on_unmount(self) -> None:
        if self._stop_news is not None:
            self._stop_news()
        self.timeline.viewport = None

    @property
    def pane(self) -> MessagePane:
        """The scrollback."""
        return self.query_one(MessagePane)

    @property
    def composer(self) -> Composer:
        """The message being written (kept while the user is elsewhere and through reconnects)."""
        return self.query_one(Composer)

    def notice(self, text: str, *, error: bool = False) -> None:
        """Add a local notice (shown literally) with the current time."""
        self.timeline.notice(text, error=error)

    # --- news from the timeline ---------------------------------------------------------------------

    def _news(self, news: News) -> None:
        if isinstance(news, MembersChanged):
            self._show_members()
        elif isinstance(news, Refused):
            reason = for_people(sanitize_line(news.reason))
            self._not_sent(news.text, f"the server refused it ({sanitize_line(news.code)}): {reason}")

    def _show_members(self) -> None:
        for members in self.query(MemberList):  # none once the screen is being removed
            members.set_members(self.timeline.members, complete=self.timeline.roster.complete)

    # --- older history and gaps -------------------------------------------------------------------

    @on(MessagePane.TopReached)
    def _top_reached(self) -> None:
        if self.timeline.older and not self.timeline.loading:
            self.history_requests += 1
            self.run_worker(self.timeline.load_older(), group="history", exit_on_error=False)

    @on(MessagePane.GapShown)
    def _gap_shown(self, message: MessagePane.GapShown) -> None:
        self.run_worker(self.timeline.fill_gap(message.key), group="gap", exit_on_error=False)

    # --- typing anywhere ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A printable key on the message pane or member list goes to the composer's end, focusing it.

        Keys those widgets use (arrows, Page Up/Down, Home/End, Tab, Escape) print nothing and pass on.
        """
        if not event.is_printable or any(mod in event.key.split("+")[:-1] for mod in _MODIFIERS):
            return
        if not isinstance(self.focused, MessagePane | MemberList) or not self.query(Composer):
            return
        event.stop()
        event.prevent_default()
        composer = self.composer
        composer.move_cursor(composer.document.end)
        composer.insert(event.character or "")
        composer.focus()

    def action_page_up(self) -> None:
        """Scroll the messages a page up (at the top: load older ones)."""
        self.pane.page_up()

    def action_page_down(self) -> None:
        """Scroll the messages a page down."""
        self.pane.page_down()

    def action_newest(self) -> None:
        """Jump to the newest messages and stay with them."""
        self.pane.scroll_to_end()

    # --- sending and leaving ----------------------------------------------------------------------

    def composer_reason(self) -> str:
        """Why the last message was not sent, as shown next to the composer ("" when none)."""
        return str(self.query_one("#composer-reason", Static).content)

    def composer_count(self) -> str:
        """The composer's length as shown near the limit ("3,712 / 4,000"), else ""."""
        return str(self.query_one("#composer-count", Static).content)

    def _show_reason(self, text: str) -> None:
        """Say next to the composer why a message was not sent ("" clears it), and in the pane too."""
        self.query_one("#composer-reason", Static).update(Content(sanitize_line(text)))
        self._update_status()
        if text:
            self.notice(text, error=True)

    def _not_sent(self, text: str, reason: str) -> None:
        """A message that could not be sent goes back into the composer, with the reason beside it."""
        if self.query(Composer):
            self.composer.restore(text)
            ends = "" if reason.endswith((".", "!", "?")) else "."
            self._show_reason(f"Not sent: {reason}{ends} Your text is back in the composer.")

    @on(TextArea.Changed, "#composer")
    def _composer_changed(self) -> None:
        length = len(self.composer.text.strip("\n"))
        count = self.query_one("#composer-count", Static)
        count.update(f"{length:,} / {limits.MAX_TEXT_LENGTH:,}" if length >= COUNT_FROM else "")
        count.set_class(length > limits.MAX_TEXT_LENGTH, "-over")
        self._update_status()

    def _update_status(self) -> None:
        shown = bool(self.composer_reason() or self.composer_count())
        self.query_one("#composer-status").set_class(shown, "-visible")

    @on(Composer.Refused)
    def _refused(self, event: Composer.Refused) -> None:
        self._show_reason(f"Not sent: {for_people(event.reason)}")

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        self._show_reason("")
        if event.text.strip() in LEAVE_COMMANDS:
            self.action_leave()
            return
        if self.session is None:
            self._not_sent(event.text, "not connected to a server.")
            return
        self.pane.scroll_to_end()
        self.run_worker(self._send(self.session, event.text), group="send", exit_on_error=False)

    async def _send(self, session: ChatSession, text: str) -> None:
        """Queue the message; the timeline shows it pending, then settles it by the server's answer."""
        try:
            await session.send(self.group_id, text)
        except InvalidField as exc:
            self._not_sent(text, for_people(exc.message))
        except KeyError:
            self._not_sent(text, "you are no longer in this group.")
        except LinkError as exc:
            self._not_sent(text, sanitize_line(str(exc)))

    def action_home(self) -> None:
        """Back to the home screen; the chat stays (and keeps receiving) until we leave it."""
        self.app.pop_screen()

    def action_leave(self) -> None:
        """Tell the server we leave (after our pending messages are answered), then forget the chat."""
        self.run_worker(self._leave(), exclusive=True, group="leave", exit_on_error=False)

    async def _leave(self) -> None:
        if self.session is not None:
            waiting = self.session.unacknowledged(self.group_id)
            if waiting:
                self.notice(f"Leaving once {waiting} pending message(s) are answered…")
            with suppress(RequestRefused, LinkError):  # we are out of the group either way
                await self.session.leave_group(self.group_id)
        self.post_message(self.Left(self.group_id))
