"""SearchScreen: one group's history search results (``/search TEXT``), newest first, paged.

The server searches (case-insensitive substring, newest first, in pages); this screen lists the hits
with the searched text highlighted, pages further back on "Older results…", and dismisses with the
chosen hit's seq so the chat can show it in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from chat_tui.sanitize import sanitize, sanitize_line, sanitize_name
from chat_tui.screens import form
from chat_tui.session import LinkError, RequestRefused, clock_time
from shared import HistoryEntry

OLDER = "older"
"""The option id of the "Older results…" row."""


def match_spans(text: str, wanted: str) -> list[tuple[int, int]]:
    """Where ``wanted`` occurs in ``text``, ignoring case (the server's rule), for highlighting."""
    if not wanted:
        return []
    folded, needle = text.casefold(), wanted.casefold()
    if len(folded) != len(text):  # casefold changed lengths (ß -> ss): spans would not line up
        folded, needle = text.lower(), wanted.lower()
    spans, start = [], folded.find(needle)
    while start >= 0 and len(needle):
        spans.append((start, start + len(needle)))
        start = folded.find(needle, start + len(needle))
    return spans


def hit_line(hit: HistoryEntry, wanted: str, time_format: Callable[[float], str], *, action: bool = False) -> Content:
    """One result: time, sender and the text (one line) with each match highlighted; ``action``: a /me
    line, shown as "* sender text"."""
    body = sanitize_line(sanitize(hit.text))
    content = Content(body)
    for start, end in match_spans(body, wanted):
        content = content.stylize("reverse bold", start, end)
    time, sender = (time_format(hit.ts / 1000), "dim"), (sanitize_name(hit.sender), "bold")
    if action:
        return Content.assemble(time, " * ", sender, " ", content)
    return Content.assemble(time, " ", sender, ": ", content)


class SearchScreen(ModalScreen[int | None]):
    """The hits for ``text`` in ``group_id``; Enter on one dismisses with its seq, Escape with None.

    Args:
        session: where older pages come from (any object with ``search``; None: no paging).
        results: the first page (``hits``, ``next_before_seq``; 0 = nothing older).
    """

    AUTO_FOCUS = "#hits"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    def __init__(
        self,
        session: Any,
        group_id: int,
        text: str,
        results: Any,
        *,
        time_format: Callable[[float], str] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.group_id = group_id
        self.text = text
        self.hits: list[HistoryEntry] = []
        self.next_before_seq = 0
        self._format = time_format or clock_time()
        self._first = results

    def compose(self) -> ComposeResult:
        """A bordered box: the title, the hits, a hint."""
        with Vertical(classes="form dialog search"):
            yield Label(Content.assemble("Search: ", (sanitize_line(self.text), "bold")), classes="form-title")
            yield OptionList(id="hits")
            yield Label("", id="search-status", markup=False)
            yield Label("Enter: show it in the chat · Esc: close", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        """The first page, its newest hit highlighted (Enter opens it)."""
        self._add(self._first)
        hit_list = self.query_one("#hits", OptionList)
        if hit_list.option_count:
            hit_list.highlighted = 0

    def _add(self, page: Any) -> None:
        hits: Sequence[HistoryEntry] = page.hits
        next_before_seq: int = page.next_before_seq
        actions = frozenset(getattr(page, "actions", ()))
        hit_list = self.query_one("#hits", OptionList)
        if hit_list.option_count and hit_list.get_option_at_index(hit_list.option_count - 1).id == OLDER:
            hit_list.remove_option_at_index(hit_list.option_count - 1)
        for hit in hits:
            line = hit_line(hit, self.text, self._format, action=hit.seq in actions)
            hit_list.add_option(Option(line, id=str(hit.seq)))
        self.hits.extend(hits)
        self.next_before_seq = next_before_seq
        if next_before_seq:
            hit_list.add_option(Option(Content.styled("Older results…", "italic"), id=OLDER))
        count = len(self.hits)
        more = " (more older ones: choose “Older results…”)" if next_before_seq else ""
        if count:
            status = f"{count} message{'s' if count != 1 else ''} found{more}"
        elif next_before_seq:  # the server scans a bounded stretch per page: older ones may still match
            status = "None among the newest messages; choose “Older results…” to search further back."
        else:
            status = "No messages found."
        self.query_one("#search-status", Label).update(status)

    @on(OptionList.OptionSelected, "#hits")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == OLDER:
            self.run_worker(self._older(), exclusive=True, exit_on_error=False)
        elif event.option.id is not None:
            self.dismiss(int(event.option.id))

    async def _older(self) -> None:
        if self.session is None or not self.next_before_seq:
            return
        try:
            page = await self.session.search(self.group_id, self.text, before_seq=self.next_before_seq)
        except (RequestRefused, LinkError, KeyError) as exc:
            self.query_one("#search-status", Label).update(f"Could not search further: {exc}")
            return
        self._add(page)

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
