"""RowLayout, the pane's per-entry rows: splices replayed, estimates corrected, rows located (no Textual)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chat_tui.widgets.pane_layout import BLOCK, RowLayout, anchor_after

Size = tuple[int, int]  # (cells, lines) of an entry


def _model_rows(sizes: list[Size], avail: int) -> list[int]:
    """The estimate RowLayout documents, computed the slow way."""
    return [lines + max(0, cells - lines) // avail for cells, lines in sizes]


def _laid_out(sizes: list[Size], avail: int) -> RowLayout:
    layout = RowLayout()
    layout.relayout(avail)
    layout.splice(0, 0, len(sizes))
    layout.fill(lambda index: sizes[index])
    return layout


def _check(layout: RowLayout, rows: list[int]) -> None:
    """Every row maps to the entry that holds it, and every entry starts where the rows above end."""
    assert list(layout.heights) == rows
    assert layout.total == sum(rows)
    row = 0
    for index, height in enumerate(rows):
        assert layout.row_of(index) == row
        for offset in range(height):
            assert layout.locate(row + offset) == (index, offset)
        row += height
    assert layout.locate(row) is None
    assert layout.row_of(len(rows)) == row


def test_one_line_that_fits_is_exact_and_longer_ones_are_estimated() -> None:
    layout = _laid_out([(10, 1), (40, 1), (41, 1), (100, 3), (0, 1)], avail=40)
    assert list(layout.heights) == [1, 1, 2, 3 + 97 // 40, 1]
    assert list(layout.exact) == [1, 1, 0, 0, 1]  # only what might wrap needs rendering to be sure


def test_measuring_corrects_the_rows_below() -> None:
    sizes = [(50, 1)] * (3 * BLOCK)
    layout = _laid_out(sizes, avail=40)
    rows = _model_rows(sizes, 40)
    for index in (0, BLOCK + 5, 3 * BLOCK - 1):
        delta = layout.measure(index, 4)
        assert delta == 4 - rows[index]
        rows[index] = 4
        assert layout.exact[index] == 1
    _check(layout, rows)


def test_a_new_width_re_estimates_everything_and_forgets_measurements() -> None:
    sizes = [(cells, 1) for cells in range(1, 300)]
    layout = _laid_out(sizes, avail=40)
    layout.measure(5, 3)
    layout.relayout(20)
    assert not any(exact and cells > 20 for exact, (cells, _) in zip(layout.exact, sizes, strict=True))
    _check(layout, _model_rows(sizes, 20))


sizes_st = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 4)), max_size=40)  # past 255: odd
splice_st = st.tuples(st.floats(0, 1), st.integers(0, 30), sizes_st)


@settings(max_examples=150, deadline=None)
@given(st.lists(sizes_st, min_size=1, max_size=1), st.lists(st.lists(splice_st, max_size=4), max_size=6))
def test_replayed_splices_match_a_layout_built_from_scratch(first: list[list[Size]], changes: list) -> None:  # type: ignore[type-arg]
    avail = 30
    entries = list(first[0]) * 9  # several blocks' worth once BLOCK is small against the splices
    layout = _laid_out(entries, avail)
    for change in changes:
        for where, most, added in change:  # a batch: every splice's shape first, then one fill
            start = round(where * len(entries))
            removed = min(most, len(entries) - start)
            entries[start : start + removed] = added
            layout.splice(start, removed, len(added))
        layout.fill(lambda index: entries[index])
        _check(layout, _model_rows(entries, avail))


def test_a_large_append_touches_only_the_last_blocks() -> None:
    sizes = [(10, 1)] * (10 * BLOCK)
    layout = _laid_out(sizes, avail=40)
    asked: list[int] = []

    def size_of(index: int) -> Size:
        asked.append(index)
        return (10, 1)

    layout.splice(len(sizes), 0, 5)
    layout.fill(size_of)
    assert asked == list(range(len(sizes), len(sizes) + 5))  # the appended entries, read once each
    _check(layout, [1] * (len(sizes) + 5))


def test_an_anchor_follows_its_entry_through_splices() -> None:
    assert anchor_after((10, 2), 0, 3, 5) == (12, 2)  # above it: shifted
    assert anchor_after((10, 2), 20, 3, 5) == (10, 2)  # below it: unmoved
    assert anchor_after((10, 2), 8, 4, 1) == (8, 0)  # its entry went: the one in its place, first row
    assert anchor_after((0, -1), 0, 0, 50) == (50, -1)  # a page above the first entry, header on screen
