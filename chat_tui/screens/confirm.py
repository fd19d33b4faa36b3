"""ConfirmDialog: a yes/no question before something that cannot be undone (quit, disconnect)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

from chat_tui.screens import form


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True on ``y`` or the confirm button, False on ``n``, Escape or Cancel.

    Cancel has the focus, so a stray Enter keeps things as they are.
    """

    AUTO_FOCUS = "#cancel"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
        *form.FIELD_KEYS,
    ]
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    def __init__(self, question: str, confirm_label: str) -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """The question and two buttons in a bordered box."""
        with Vertical(classes="form dialog"):
            yield Label(Content(self.question), id="question")
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error")
                yield Button("Cancel", id="cancel")
            yield Label("y: yes · n or Esc: no", classes="hint")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        """Close the dialog with the answer."""
        self.dismiss(yes)

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(False)
