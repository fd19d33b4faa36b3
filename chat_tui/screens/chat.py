"""ChatScreen: one group's scrollback, members and composer, kept while the user is elsewhere."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from chat_tui.sanitize import sanitize_line, sanitize_name
from chat_tui.screens.form import for_people
from chat_tui.session import ChatSession
from chat_tui.session.events import (
    HistoryGap,
    MembersListed,
    MessageAcknowledged,
    MessageDelayed,
    MessagePending,
    MessageRefused,
    Rejoined,
    RejoinRefused,
    SessionEvent,
)
from chat_tui.session.link import LinkError, RequestRefused
from chat_tui.widgets import Composer, ConnectionBanner, Entry, MemberList, MessagePane
from chat_tui.widgets.message_pane import SCROLLBACK, gap_rule_text
from shared import (
    HistoryEntry,
    InvalidField,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    fields,
    limits,
)

LEAVE_COMMANDS = frozenset({"qqq", "/leave"})
"""Lines that leave the group instead of being sent."""
NEW_SINCE_JOIN = "new since you joined"
"""The marker line between the replayed history and what arrived after our join."""
HEADER_MORE = "↑ scroll up for older messages"
HEADER_LOADING = "loading older messages…"
HEADER_START = "beginning of history"
_MODIFIERS = frozenset({"ctrl", "alt", "meta", "super", "hyper"})
"""Key-name prefixes of a shortcut, not typing (shift only changes the character)."""
COUNT_FROM = limits.MAX_TEXT_LENGTH * 9 // 10
"""The composer shows its length (in code points, as the server counts) from here up."""


class ChatScreen(Screen[None]):
    """Chat in group ``group_id``.

    Args:
        session: the app's chat session (None only in snapshot tests without a network).
        last_seq: ``GroupJoined.last_seq`` when we joined (the replay ends there); None for a group we created.
        scrollback: records the message pane keeps (it pages dropped ones back in from the server).
    """

    AUTO_FOCUS = "#composer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "home", "Groups"),
        # Priority: the composer has focus and TextArea would take Page Up/Down for its cursor.
        Binding("pageup", "page_up", "Older", show=False, priority=True),
        Binding("pagedown", "page_down", "Newer", show=False, priority=True),
    ]

    class Left(Message):
        """We left the group: the app forgets this screen."""

        def __init__(self, group_id: int) -> None:
            super().__init__()
            self.group_id = group_id

    def __init__(
        self,
        session: ChatSession | None,
        you: str,
        group_id: int,
        group_name: str,
        members: Iterable[str],
        *,
        last_seq: int | None = None,
        more_members: bool = False,
        clock: Callable[[], float],
        tz: tzinfo | None = None,
        scrollback: int = SCROLLBACK,
    ) -> None:
        super().__init__()
        self.session = session
        self.you = you
        self.group_id = group_id
        self.group_name = group_name
        self._members = tuple(members) or (you,)
        self._members_complete = not more_members  # else MembersListed brings the rest
        self._last_seq = last_seq
        self._marked = not last_seq  # nothing was replayed: no marker to place
        self._scrollback = scrollback
        self._live_seq = 0  # the newest seq the session delivered: a detached pane pages up to it
        self._fetching = False
        self._filling = False
        self.history_requests = 0
        """How many pages of older history this screen asked for (each scroll to the top asks once)."""
        self._clock = clock
        self._tz = tz
        self._composed = False
        self._backlog: list[SessionEvent] = []  # events routed here before the screen was mounted

    def compose(self) -> ComposeResult:
        """Title bar, connection banner, messages beside members, composer, footer."""
        yield Static(self._title(), id="chat-title")
        yield ConnectionBanner(id="banner")
        with Horizontal(id="chat-body"):
            yield MessagePane(id="messages", scrollback=self._scrollback)
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
        """Fill the member list, say where we are, then show what arrived before the screen."""
        members = self.query(MemberList)
        if not members:  # removed (the app or the test ended) before it finished mounting: nothing to fill
            return
        self._composed = True  # is_mounted turns true only after on_mount returns
        members.first().set_members(self._members, complete=self._members_complete)
        self.pane.set_header(HEADER_MORE if self._older_exists() else HEADER_START)
        name = sanitize_line(self.group_name)
        if self._last_seq is None:
            self.notice(
                f"You created “{name}”. Its group ID is {self.group_id}: share it and the password so others can join."
            )
        elif self._marked:
            self.notice(f"You joined “{name}” (group ID {self.group_id}).")
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            self._show(event)

    @property
    def pane(self) -> MessagePane:
        """The scrollback."""
        return self.query_one(MessagePane)

    @property
    def composer(self) -> Composer:
        """The message being written (kept while the user is elsewhere and through reconnects)."""
        return self.query_one(Composer)

    def _time(self, seconds: float) -> str:
        try:
            return datetime.fromtimestamp(seconds, self._tz).strftime("%H:%M")
        except (OverflowError, OSError, ValueError):  # a server's ts may lie anywhere in 0..2**53 ms
            return "--:--"

    def notice(self, text: str, *, error: bool = False) -> None:
        """Add a local notice (shown literally) with the current time."""
        panes = self.query(MessagePane)  # none once the screen is being removed (leaving, app exit)
        if self._composed and panes:
            panes.first().add_notice(self._time(self._clock()), text, error=error)

    # --- events from the session ------------------------------------------------------------------

    def apply(self, event: SessionEvent) -> None:
        """Show a session event about this group (the app routes them by group)."""
        if not self._composed:  # before on_mount, which shows the backlog
            self._backlog.append(event)
        elif self.query(MessagePane):  # none once the screen is being removed (leaving, app exit)
            self._show(event)

    def _show(self, event: SessionEvent) -> None:
        if isinstance(event, MessagePosted):
            self._message(event.seq, event.ts, event.sender, event.text)
        elif isinstance(event, MessagePending):
            self.pane.add_pending(event.message.client_msg_id, event.message.sender, event.message.text)
        elif isinstance(event, MessageAcknowledged):
            self._live_seq = max(self._live_seq, event.seq)
            self._before(event.seq)
            self.pane.acknowledge(event.message.client_msg_id, self._time(event.ts / 1000), event.seq)
            self._after(event.seq)
        elif isinstance(event, MessageDelayed):
            if self.pane.delay(event.message.client_msg_id):
                self.notice(_delay_notice(event))
        elif isinstance(event, HistoryGap):
            gap = (event.after_seq, event.before_seq)
            self.pane.add_marker(gap_rule_text(*gap), gap=gap)
        elif isinstance(event, MessageRefused):
            self.pane.refuse(event.message.client_msg_id)
            reason = for_people(sanitize_line(event.reason))
            self._not_sent(event.message.text, f"the server refused it ({sanitize_line(event.code)}): {reason}")
        elif isinstance(event, MemberJoined | MemberLeft | Rejoined | RejoinRefused | MembersListed):
            self._membership(event)

    def _membership(self, event: MemberJoined | MemberLeft | Rejoined | RejoinRefused | MembersListed) -> None:
        members = self.query_one(MemberList)
        if isinstance(event, MemberJoined):
            members.add(event.name)
            self.notice(f"{sanitize_name(event.name)} has joined the chat!")
        elif isinstance(event, MemberLeft):
            members.discard(event.name)
            self.notice(f"{sanitize_name(event.name)} has left the chat!")
        elif isinstance(event, Rejoined):
            members.set_members(event.joined.members, complete=not event.joined.more_members)
        elif isinstance(event, MembersListed):
            members.set_members(event.members)
        elif event.final:
            self.notice(f"You are no longer in this group: {sanitize_line(event.message)}", error=True)
        else:
            why = f"({sanitize_line(event.code)}): {sanitize_line(event.message)}"
            self.notice(f"Rejoining refused {why}; trying again", error=True)

    def _message(self, seq: int, ts: int, sender: str, text: str) -> None:
        self._live_seq = max(self._live_seq, seq)
        self._before(seq)
        own = sender == self.you  # replayed messages of ours carry our name (PROTOCOL.md §6)
        self.pane.add_message(self._time(ts / 1000), sender, text, own=own, seq=seq)
        self._after(seq)
        if seq <= 1:
            self._history_complete()

    def _before(self, seq: int) -> None:
        if not self._marked and self._last_seq is not None and seq > self._last_seq:
            self._mark()

    def _after(self, seq: int) -> None:
        if not self._marked and seq == self._last_seq:
            self._mark()

    def _mark(self) -> None:
        """The replay is over: a rule between it and what comes after, then where we are."""
        self._marked = True
        self.pane.add_marker(NEW_SINCE_JOIN)
        self.notice(f"You joined “{sanitize_line(self.group_name)}” (group ID {self.group_id}).")

    # --- older history ----------------------------------------------------------------------------

    def _older_exists(self) -> bool:
        oldest = self.pane.oldest_seq if self._composed else None
        return oldest > 1 if oldest is not None else bool(self._last_seq)

    @property
    def _page_size(self) -> int:
        # At most the cap: a page is kept whole, so the pane holds at most twice its cap.
        return max(1, min(limits.MAX_HISTORY_PAGE, self._scrollback))

    @on(MessagePane.TopReached)
    def _top_reached(self) -> None:
        if self._older_exists() and not self._fetching and self.session is not None:
            self._fetching = True  # set here, not in the worker: a second TopReached must not start one
            self.history_requests += 1
            self.pane.set_header(HEADER_LOADING)
            self.run_worker(self._fetch_older(self.session), group="history", exit_on_error=False)

    async def _fetch_older(self, session: ChatSession) -> None:
        # From the oldest seq the pane still holds, not the session's oldest delivered: the pane may
        # have dropped (trimmed) messages the session delivered long ago.
        before = self.pane.oldest_seq or (self._last_seq or 0) + 1
        try:
            page = await session.fetch_page(self.group_id, before, self._page_size)
        except (RequestRefused, LinkError) as exc:
            reason = exc.error.message if isinstance(exc, RequestRefused) else str(exc)
            self.pane.set_header(f"could not load older messages: {reason} (scroll up to retry)")
        else:
            self.pane.prepend(self._history_entry(entry) for entry in page.messages)
            more = page.has_more and bool(page.messages) and page.messages[0].seq > 1
            self.pane.set_header(HEADER_MORE if more else HEADER_START)
        finally:
            self._fetching = False

    @on(MessagePane.BottomReached)
    def _bottom_reached(self) -> None:
        if self.pane.detached and not self._fetching and self.session is not None:
            self._fetching = True
            self.run_worker(self._fetch_newer(self.session), group="history", exit_on_error=False)

    async def _fetch_newer(self, session: ChatSession) -> None:
        """Page back in the newer messages a detached pane dropped (the page right above its newest)."""
        newest = self.pane.newest_seq or 0
        try:
            page = await session.fetch_page(self.group_id, newest + 1 + self._page_size, self._page_size)
        except (RequestRefused, LinkError):
            pass  # the next scroll down retries
        else:
            entries = [self._history_entry(entry) for entry in page.messages if entry.seq > newest]
            live = not entries or (entries[-1].seq or 0) >= self._live_seq
            self.pane.append_history(entries, live=live)
        finally:
            self._fetching = False

    @on(MessagePane.Trimmed)
    def _trimmed(self, message: MessagePane.Trimmed) -> None:
        if message.top:
            self.pane.set_header(HEADER_MORE)

    @on(MessagePane.GapShown)
    def _gap_shown(self, message: MessagePane.GapShown) -> None:
        if self.session is None:
            return
        if self._filling:  # one gap at a time: this rule asks again when next shown (the fill redraws)
            self.pane.fill_gap(message.key, [])
            return
        self._filling = True
        self.run_worker(self._fill_gap(self.session, message), group="gap", exit_on_error=False)

    async def _fill_gap(self, session: ChatSession, gap: MessagePane.GapShown) -> None:
        """The newest page of a gap's messages under its rule; the rule, shrunk, asks for the next."""
        try:
            page = await session.fetch_before(self.group_id, gap.before_seq, self._page_size)
        except (RequestRefused, LinkError, KeyError):
            self.pane.fill_gap(gap.key, [])  # shown again, it asks again
        else:
            inside = [self._history_entry(e) for e in page.messages if gap.after_seq < e.seq < gap.before_seq]
            self.pane.fill_gap(gap.key, inside, done=not inside)
        finally:
            self._filling = False

    def _history_entry(self, entry: HistoryEntry) -> Entry:
        return Entry(self._time(entry.ts / 1000), entry.sender, entry.text, own=entry.sender == self.you, seq=entry.seq)

    def _history_complete(self) -> None:
        self.pane.set_header(HEADER_START)

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
        self.run_worker(self._send(self.session, event.text), group="send", exit_on_error=False)

    async def _send(self, session: ChatSession, text: str) -> None:
        """Queue the message; it shows as pending through MessagePending, then settles by its answer."""
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


def _delay_notice(event: MessageDelayed) -> str:
    wait = f"retrying in {max(1, math.ceil(event.retry_in))} s"
    if event.code == "internal":
        return f"The server could not store your message; {wait} (nothing to retype)."
    return f"Sending too fast: the server holds your messages back; {wait}."
