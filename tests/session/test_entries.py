"""EntryList: splices reach subscribers in order, batched, and applying them rebuilds the list."""

from __future__ import annotations

import pytest

from chat_tui.session import Entry, EntryList, TimelineChange


def _apply(mirror: list[str], source: EntryList, change: TimelineChange) -> None:
    # What a view does: replay each splice's shape against its own per-entry cache with placeholders,
    # then fill the placeholders from the list as it is now.
    shape: list[str | None] = list(mirror)
    for splice in change.splices:
        shape[splice.start : splice.start + splice.removed] = [None] * splice.added
    mirror[:] = [source[i].text if text is None else text for i, text in enumerate(shape)]


def test_splices_replayed_by_a_subscriber_rebuild_the_list() -> None:
    entries = EntryList()
    mirror: list[str] = []
    changes: list[TimelineChange] = []

    def record(change: TimelineChange) -> None:
        changes.append(change)
        _apply(mirror, entries, change)

    entries.subscribe(record)
    entries.append([Entry("message", "a"), Entry("message", "b")], live=2)
    entries.splice(0, 0, [Entry("message", "older")])
    entries.replace(1, entries[1].changed(text="A"))
    entries.splice(0, 2, [])
    assert mirror == [e.text for e in entries] == ["b"]
    assert changes[0].live_added == 2
    assert all(change.live_added == 0 for change in changes[1:])


def test_a_batch_notifies_once_with_every_splice_in_order() -> None:
    entries = EntryList()
    mirror: list[str] = []
    changes: list[TimelineChange] = []

    def record(change: TimelineChange) -> None:
        changes.append(change)
        _apply(mirror, entries, change)

    entries.subscribe(record)
    with entries.batch():
        with entries.batch():
            entries.append([Entry("message", str(i)) for i in range(3)], live=3)
        entries.splice(0, 1, [])
        entries.set_header("loading…")
        assert changes == []
    assert len(changes) == 1
    assert changes[0].header_changed
    assert changes[0].live_added == 3
    # Replayed in one go the splices refer to a list the view never saw between them, so a view
    # applies them in order; here the net effect must equal the source.
    assert mirror == ["1", "2"]


def test_changed_gives_a_new_key_and_index_of_finds_it() -> None:
    entries = EntryList()
    first = Entry("message", "x")
    entries.append([first, Entry("notice", "y")])
    again = first.changed(state="failed")
    assert again.key != first.key
    entries.replace(0, again)
    assert entries.index_of(again.key) == 0
    assert entries.index_of(first.key) is None


def test_unsubscribe_stops_notices_and_bad_splices_are_refused() -> None:
    entries = EntryList()
    seen: list[TimelineChange] = []
    stop = entries.subscribe(seen.append)
    stop()
    entries.append([Entry("message", "a")])
    assert seen == []
    with pytest.raises(IndexError):
        entries.splice(2, 0, [])
