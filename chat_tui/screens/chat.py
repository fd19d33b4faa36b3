"""ChatScreen: one group's scrollback, members and composer, kept while the user is elsewhere.

The screen shows its group's :class:`~chat_tui.session.GroupTimeline`: the pane renders the timeline's
entries and the member list follows its roster. It keeps no facts of its own about the conversation;
it turns the user's actions (scrolling to the top, a gap coming on screen, sending, leaving) into calls
on the timeline and the session.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea

from chat_tui import commands
from chat_tui.activity import Activity
from chat_tui.sanitize import sanitize_line
from chat_tui.screens import chat_commands
from chat_tui.screens.confirm import ConfirmDialog
from chat_tui.screens.form import for_people
from chat_tui.screens.palette import SlashCommands
from chat_tui.screens.search import SearchScreen
from chat_tui.session import (
    ChatSession,
    GroupTimeline,
    LinkError,
    MembersChanged,
    News,
    Refused,
    RequestRefused,
    clock_time,
)
from chat_tui.widgets import Composer, ConnectionBanner, GroupList, MemberList, MessagePane
from shared import InvalidField, fields, limits

log = logging.getLogger("chat_tui.screens.chat")

_FOLLOW_TRIES = 10
"""Refreshes a chat screen waits for its widgets before it gives up following its timeline."""
LEAVE_WORD = "qqq"
"""A line that leaves the group instead of being sent (as ``/leave`` does)."""
_MODIFIERS = frozenset({"ctrl", "alt", "meta", "super", "hyper"})
"""Key-name prefixes of a shortcut, not typing (shift only changes the character)."""
TYPING_CHECK = 1.0
"""Seconds between checks for "is typing" lines that expired (each lasts 5 s after its frame)."""
COUNT_FROM = limits.MAX_TEXT_LENGTH * 9 // 10
"""The composer shows its length (in code points, as the server counts) from here up."""


class ChatScreen(Screen[None]):
    """Chat in the group of ``timeline``.

    Args:
        session: the app's chat session (None only in tests without a network: sending says so).
        timeline: the group's conversation (``session.timeline(group_id)``).
    """

    AUTO_FOCUS = "#composer"
    COMMANDS = {SlashCommands}  # beside the app's: the system commands and the group switcher
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "home", "Groups"),
        # Priority: the composer has focus and TextArea would take Page Up/Down for its cursor.
        Binding("pageup", "page_up", "Older", show=False, priority=True),
        Binding("pagedown", "page_down", "Newer", show=False, priority=True),
        # End belongs to the composer's line; Ctrl+End jumps the messages to the newest from anywhere.
        Binding("ctrl+end", "newest", "Newest", show=False, priority=True),
        # Between groups (weechat/irssi keys): Alt+N, the next/previous one, the next with news.
        *(Binding(f"alt+{n}", f"app.group_number({n})", f"Group {n}", show=False, priority=True) for n in range(1, 10)),
        Binding("ctrl+n", "app.group_step(1)", "Next group", show=False, priority=True),
        Binding("ctrl+p", "app.group_step(-1)", "Previous group", show=False, priority=True),
        Binding("alt+a", "app.next_unread", "Next unread", priority=True),
        Binding("f2", "toggle_members", "Members", priority=True),
    ]

    class Left(Message):
        """We left the group: the app forgets this screen."""

        def __init__(self, group_id: int) -> None:
            super().__init__()
            self.group_id = group_id

    def __init__(self, session: ChatSession | None, timeline: GroupTimeline, activity: Activity | None = None) -> None:
        super().__init__()
        self.session = session
        self.activity = activity
        self.timeline = timeline
        self.group_id = timeline.group_id
        self.group_name = timeline.group_name
        self.you = timeline.you
        self.history_requests = 0
        """How many pages of older history this screen asked for (each scroll to the top asks once)."""
        self._stop_news: Callable[[], None] | None = None
        self._read_upto: int | None = None  # read up to here when the screen was last left (None: never shown)

    def compose(self) -> ComposeResult:
        """Title bar, connection banner, messages beside members, composer, footer."""
        yield Static(self._title(), id="chat-title")
        yield ConnectionBanner(id="banner")
        with Horizontal(id="chat-body"):
            yield GroupList(self.activity, self.group_id, id="group-list")
            yield MessagePane(self.timeline.entries, id="messages", you=self.you)
            with Vertical(id="member-panel"):
                yield Input(placeholder="filter members", id="member-filter")
                yield MemberList(self.you, id="members")
        with Horizontal(id="composer-status"):
            yield Static("", id="composer-reason", markup=False)
            yield Static("", id="composer-count", markup=False)
        yield Composer(
            id="composer",
            placeholder="Message (Enter sends; qqq or /leave leaves; Esc: groups)",
            check=fields.message_text,
            names=self._other_members,
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
        self._follow(tries=_FOLLOW_TRIES)

    def _follow(self, tries: int) -> None:
        """Follow the timeline: its members now and as they change, its refusals; lend it the viewport."""
        if not self.query(MessagePane):
            # Seen once in CI (1 run in ~10): a ChatScreen mounted before its widgets, while a chat of the
            # same group was being left and removed. Raising here would end the whole app: try again after
            # the next refresh, and give up (logged) only if the widgets never come.
            if tries > 0:
                self.call_after_refresh(self._follow, tries - 1)
            else:
                log.warning("chat screen of group %d has no message pane; not following it", self.group_id)
            return
        self._show_members()
        self._stop_news = self.timeline.listen(self._news)
        self.set_interval(TYPING_CHECK, self._expire_typing)
        self.timeline.viewport = self.pane.visible_range  # the timeline trims the end away from it

    def on_screen_resume(self) -> None:
        """On screen: the read marker goes where the user left off; this group is read as its messages come."""
        read = self._read_upto
        if read is None:  # opened: from the read position saved on an earlier visit, if any
            positions = self.activity.positions if self.activity is not None else None
            read = positions.get(self.activity.server, self.group_id, self.you) if positions and self.activity else 0
        self.timeline.mark_read(read)
        if self.activity is not None:
            self.activity.show(self.group_id)

    def on_screen_suspend(self) -> None:
        """Off screen (another group, home, a dialog): its new messages count as unread from now."""
        self._read_upto = self.timeline.newest_seq
        if self.activity is None:
            return
        if self.activity.current == self.group_id:  # the next chat's resume may have come first
            self.activity.show(None)
        self.activity.save()

    @on(GroupList.GroupPicked)
    def _group_picked(self, message: GroupList.GroupPicked) -> None:
        show = getattr(self.app, "show_group", None)
        if callable(show):
            show(message.group_id)

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
            self.not_sent(news.text, f"the server refused it ({sanitize_line(news.code)}): {reason}")

    def _show_members(self) -> None:
        timeline = self.timeline
        if timeline.you != self.you:  # our /nick took effect
            self.you = timeline.you
            self.pane.you = self.you
            self.query_one("#chat-title", Static).update(self._title())
        members = timeline.members
        presence = {name: timeline.presence(name) for name in members}
        away = {name: reason for name, (is_away, reason) in presence.items() if is_away}
        typing = timeline.typing_names(self._now())
        for member_list in self.query(MemberList):  # none once the screen is being removed
            member_list.you = self.you
            member_list.set_members(members, complete=timeline.roster.complete, away=away, typing=typing)

    def _now(self) -> float:
        clock = getattr(self.app, "clock", None)
        return float(clock()) if callable(clock) else time.time()

    def _expire_typing(self) -> None:
        """Once a second while someone is shown typing: drop those whose 5 s have passed."""
        shown = self.query_one(MemberList).typing if self.query(MemberList) else []
        if shown and self.timeline.typing_names(self._now()) != shown:
            self._show_members()

    # --- older history and gaps -------------------------------------------------------------------

    @on(MessagePane.TopReached)
    def _top_reached(self) -> None:
        if self.timeline.older and not self.timeline.loading:
            self.history_requests += 1
            self.run_worker(self.timeline.load_older(), group="history", exit_on_error=False)

    @on(MessagePane.GapShown)
    def _gap_shown(self, message: MessagePane.GapShown) -> None:
        # Coming down to the gap's rule from above (it is in the lower half of the view, the pane not
        # pinned to the end): its oldest messages first, so what is read next is what comes in.
        index, shown = self.timeline.entries.index_of(message.key), self.pane.visible_range()
        downward = index is not None and shown is not None and 2 * index > sum(shown) and not self.pane.following
        fill = self.timeline.fill_gap(message.key, oldest_first=downward)
        self.run_worker(fill, group="gap", exit_on_error=False)

    # --- typing anywhere ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A printable key on the message pane or member list goes to the composer's end, focusing it.

        Keys those widgets use (arrows, Page Up/Down, Home/End, Tab, Escape) print nothing and pass on.
        """
        if not event.is_printable or any(mod in event.key.split("+")[:-1] for mod in _MODIFIERS):
            return
        if event.character == "?":  # the help key, away from the composer
            return
        if not isinstance(self.focused, MessagePane | MemberList | GroupList) or not self.query(Composer):
            return
        event.stop()
        event.prevent_default()
        composer = self.composer
        composer.move_cursor(composer.document.end)
        composer.insert(event.character or "")
        composer.focus()

    def action_toggle_members(self) -> None:
        """F2: hide the member list (the messages take its columns) or show it again."""
        panel = self.query_one("#member-panel")
        if panel.display and self.focused is not None and panel in self.focused.ancestors:
            self.composer.focus()  # focus must not stay inside what is hidden
        panel.display = not panel.display

    @on(Input.Changed, "#member-filter")
    def _filter_members(self, event: Input.Changed) -> None:
        self.query_one(MemberList).filter(event.value)

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

    def not_sent(self, text: str, reason: str) -> None:
        """A message that could not be sent goes back into the composer, with the reason beside it."""
        if self.query(Composer):
            self.composer.restore(text)
            ends = "" if reason.endswith((".", "!", "?")) else "."
            self._show_reason(f"Not sent: {reason}{ends} Your text is back in the composer.")

    @on(TextArea.Changed, "#composer")
    def _composer_changed(self) -> None:
        text = self.composer.text
        if self.session is not None and text.strip() and not text.startswith("/") and self._typing_on():
            self.session.typing(self.group_id)  # the session sends at most one per 3 s per group
        length = len(text.strip("\n"))
        count = self.query_one("#composer-count", Static)
        count.update(f"{length:,} / {limits.MAX_TEXT_LENGTH:,}" if length >= COUNT_FROM else "")
        count.set_class(length > limits.MAX_TEXT_LENGTH, "-over")
        self._update_status()

    def _typing_on(self) -> bool:
        """Whether to tell the others we are typing (the settings' "typing" switch; on by default)."""
        return bool(getattr(getattr(self.app, "settings", None), "typing", True))

    def _update_status(self) -> None:
        shown = bool(self.composer_reason() or self.composer_count())
        self.query_one("#composer-status").set_class(shown, "-visible")

    def _other_members(self) -> list[str]:
        """Whom Tab completes: everyone here but us."""
        you = fields.name_key(self.you)
        return [name for name in self.timeline.members if fields.name_key(name) != you]

    @on(Composer.PasteAsked)
    def _paste_asked(self, event: Composer.PasteAsked) -> None:
        composer, text = event.composer, event.text

        def answered(yes: bool | None) -> None:
            if yes:
                composer.paste(text)

        question = f"Paste {event.lines} lines into the message? Enter sends them all to the group."
        self.app.push_screen(ConfirmDialog(question, "Paste"), answered)

    @on(Composer.Refused)
    def _refused(self, event: Composer.Refused) -> None:
        self._show_reason(f"Not sent: {for_people(event.reason)}")

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        self._show_reason("")
        if event.text.strip() == LEAVE_WORD:
            self.action_leave()
            return
        line = commands.parse(event.text)
        if isinstance(line, commands.Refusal):
            self.composer.restore(event.text)  # never sent: the user fixes it or adds a second slash
            self.refuse(line.reason)
        elif isinstance(line, commands.Invocation):
            chat_commands.run(self, line)
        else:
            self.send_text(line.text)

    def send_text(self, text: str) -> None:
        """Send ``text`` as a message (it is shown pending until the server answers)."""
        if self.session is None:
            self.not_sent(text, "not connected to a server.")
            return
        self.pane.scroll_to_end()
        self.start(self._send(self.session, text))

    def run_command(self, line: str) -> None:
        """Run a command line (``/who``) as if typed; the palette uses this for commands without arguments."""
        self._submitted(Composer.Submitted(self.composer, line))

    def start(self, work: Awaitable[None]) -> None:
        """Run a request of this chat in a worker whose errors stay inside it."""
        self.run_worker(work, group="send", exit_on_error=False)

    def refuse(self, reason: str) -> None:
        """Say next to the composer (and in the pane) why a line was not run or sent."""
        self._show_reason(reason)

    def is_away(self) -> bool:
        """Whether we marked ourselves away (as the timeline knows it; False before presence exists)."""
        presence = getattr(self.timeline, "presence", None)
        return bool(presence(self.you)[0]) if callable(presence) else False

    def open_search(self, text: str) -> None:
        """Search this group's history for ``text`` (``/search``)."""
        self.notice(f"Searching for “{text}”…")
        self.start(self._search(text))

    async def _search(self, text: str) -> None:
        session: Any = self.session
        try:
            results = await session.search(self.group_id, text)
        except InvalidField as exc:
            self.refuse(f"/search: {for_people(exc.message)}")
            return
        except (RequestRefused, LinkError, KeyError) as exc:
            self.refuse(f"/search: {exc}")
            return
        time_format = clock_time(getattr(self.app, "tz", None))
        screen = SearchScreen(self.session, self.group_id, text, results, time_format=time_format)
        self.app.push_screen(screen, self.show_seq)

    def show_seq(self, seq: int | None) -> None:
        """Scroll the pane to the message ``seq`` (a search hit), paging in the messages around it first if
        it is not in memory (a gap rule then stands between them and the live end)."""
        if seq is not None:
            self.run_worker(self._show_seq(seq), exclusive=True, group="show-seq", exit_on_error=False)

    async def _show_seq(self, seq: int) -> None:
        index = await self.timeline.load_around(seq)
        if index is None:
            self.notice(f"Message #{seq} could not be loaded: scroll up (Page Up) to reach it.")
            return
        # After the search screen is gone and this one is laid out again (a scroll before would be undone).
        self.call_after_refresh(self._scroll_to_seq, seq)

    def _scroll_to_seq(self, seq: int) -> None:
        index = next((i for i, entry in enumerate(self.timeline.entries) if entry.seq == seq), None)
        if index is not None:  # looked up again: the list may have moved since the page came
            self.pane.scroll_to_entry(index)

    async def _send(self, session: ChatSession, text: str) -> None:
        """Queue the message; the timeline shows it pending, then settles it by the server's answer."""
        try:
            await session.send(self.group_id, text)
        except InvalidField as exc:
            self.not_sent(text, for_people(exc.message))
        except KeyError:
            self.not_sent(text, "you are no longer in this group.")
        except LinkError as exc:
            self.not_sent(text, sanitize_line(str(exc)))

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
