"""RequestDialog: a modal form whose submit sends one request and dismisses with the reply.

Join and create differ only in their fields and the request they build; the flow is shared:
validate as you type, Enter submits, Escape cancels, a refusal stays inside the dialog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label

from chat_tui.screens import form
from chat_tui.session import ChatSession, LinkError, RequestRefused
from shared import Error, Event, InvalidField

Request = Callable[[ChatSession], Awaitable[Event]]
"""A session call built from the form, e.g. ``lambda s: s.join_group(group_id, password, name)``."""

ReplyT = TypeVar("ReplyT", bound=Event)


class RequestDialog(ModalScreen[ReplyT | None], Generic[ReplyT]):
    """Subclasses set TITLE, SUBMIT_LABEL and REPLY and implement ``make_fields``/``make_request``."""

    TITLE_TEXT: ClassVar[str] = ""
    SUBMIT_LABEL: ClassVar[str] = "OK"
    REPLY: ClassVar[type[Event]] = Event
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"), *form.FIELD_KEYS]
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    def __init__(self, session: ChatSession | None, name: str, *, prefill: str = "") -> None:
        super().__init__()
        self.session = session
        self.you = name
        self.prefill = prefill
        """The first field's value on opening (``/join 12`` fills the group ID); focus goes to the next."""

    def on_mount(self) -> None:
        """With a prefilled first field, start at the second one."""
        if self.prefill:
            first, *rest = self.inputs
            first.value = self.prefill
            result = first.validate(first.value)
            if rest and (result is None or result.is_valid):
                rest[0].focus()

    def make_fields(self) -> ComposeResult:
        """Yield the Labels and Inputs of the form, first field first."""
        raise NotImplementedError

    def make_request(self) -> Request:
        """Build the request from the (valid) field values."""
        raise NotImplementedError

    def extra_problem(self) -> tuple[Input, str] | None:
        """A cross-field problem (e.g. passwords differ), checked after each field's own check."""
        return None

    def refused(self, error: Error) -> bool:
        """A refusal this dialog settles itself (e.g. dismissing); False shows it in the error line."""
        del error
        return False

    def compose(self) -> ComposeResult:
        """The bordered form box with the error line and the buttons."""
        with Vertical(classes="form dialog"):
            yield Label(Content(self.TITLE_TEXT), classes="form-title")
            yield from self.make_fields()
            yield Label("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.SUBMIT_LABEL, id="submit", variant="primary")
                yield Button("Cancel", id="cancel")
            yield Label("Tab: next field · Enter: submit · Esc: cancel", classes="hint")
        yield Footer()

    @property
    def inputs(self) -> list[Input]:
        """The form's fields, in order."""
        return list(self.query(Input))

    def show_error(self, text: str) -> None:
        """Show ``text`` literally under the fields; an empty string clears it."""
        form.show_error(self.query_one("#error", Label), text)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        problems = [] if result is None or result.is_valid else result.failure_descriptions
        extra = self.extra_problem() if not problems else None
        self.show_error("; ".join(problems) if problems else extra[1] if extra else "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Validate, then send the request in a worker; the dialog stays until the reply comes."""
        problem = form.first_problem(self.inputs) or self.extra_problem()
        if problem is not None:
            widget, reason = problem
            self.show_error(reason)
            widget.focus()
            return
        self.show_error("")
        self.query_one("#submit", Button).disabled = True
        self.run_worker(self._send(self.make_request()), exclusive=True, exit_on_error=False)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)

    async def _send(self, make: Request) -> None:
        if self.session is None:
            self.show_error("Not connected to a server.")
            self.query_one("#submit", Button).disabled = False
            return
        try:
            reply = await make(self.session)
        except RequestRefused as exc:
            if self.refused(exc.error):
                return
            self.show_error(form.refusal_text(exc.error))
        except InvalidField as exc:  # our own input failed a protocol check the form missed
            self.show_error(form.for_people(exc.message))
        except LinkError as exc:  # NotConnected while reconnecting: the banner says so too
            self.show_error(f"Not now: {exc}")
        else:
            if isinstance(reply, self.REPLY):
                self.dismiss(reply)  # type: ignore[arg-type]  # narrowed by REPLY at runtime
                return
            self.show_error(f"Unexpected reply from the server: {type(reply).__name__}")
        self.query_one("#submit", Button).disabled = False
