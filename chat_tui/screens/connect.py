"""ConnectScreen: where to connect and under which name; also where a lost connection lands."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label

from chat_tui.screens import form
from shared import fields


class ConnectScreen(Screen[None]):
    """Host, port and display name, then Connect. Errors and disconnects show in ``#status``."""

    AUTO_FOCUS = ""  # on_mount chooses: the first empty field, or Connect
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit"), *form.FIELD_KEYS]
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    class ConnectRequested(Message):
        """The form is valid: the app should open a link to ``host:port`` as ``name``."""

        def __init__(self, host: str, port: int, name: str) -> None:
            super().__init__()
            self.host = host
            self.port = port
            self.name = name

    def __init__(self, host: str, port: int, name: str, *, status: str = "", focus: str = "") -> None:
        """``focus``: the id of the field to focus (e.g. "name" after the user disconnected to change it)."""
        super().__init__()
        self._defaults = (host, str(port), name)
        self._status = status
        self._focus = focus

    def compose(self) -> ComposeResult:
        """The form, centred in a bordered box."""
        host, port, name = self._defaults
        with Vertical(id="connect-form", classes="form"):
            yield Label(Content("Connect to a groupchat server"), classes="form-title")
            yield Label("Host")
            yield form.field(form.non_blank("host"), id="host", placeholder="127.0.0.1", value=host)
            yield Label("Port")
            yield form.field(form.port, id="port", placeholder="7030", value=port)
            yield Label("Your name")
            check_name = form.both(form.non_blank("name"), fields.display_name)
            yield form.field(check_name, id="name", placeholder="e.g. Alice", value=name)
            yield Label("", id="error", classes="error", markup=False)
            yield Label("", id="status", classes="status", markup=False)
            yield Button("Connect", id="connect", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the first empty field, so typing a name never overwrites the prefilled host; with every
        field filled in (from flags, or after a disconnect), focus Connect so a lone Enter connects."""
        if self._status:
            self.set_status(self._status, error=True)
        if self._focus:
            self.query_one(f"#{self._focus}", Input).focus()
            return
        empty = [widget for widget in self.inputs if not widget.value.strip()]
        (empty[0] if empty else self.query_one("#connect", Button)).focus()

    @property
    def inputs(self) -> list[Input]:
        """The form's fields, in order."""
        return [self.query_one(f"#{name}", Input) for name in ("host", "port", "name")]

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        problems = [] if result is None or result.is_valid else result.failure_descriptions
        form.show_error(self.query_one("#error", Label), "; ".join(problems))

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def submit(self) -> None:
        """Validate every field; ask the app to connect if they all pass."""
        problem = form.first_problem(self.inputs)
        if problem is not None:
            widget, reason = problem
            form.show_error(self.query_one("#error", Label), reason)
            widget.focus()
            return
        host, port, name = (widget.value for widget in self.inputs)
        self.set_status("Connecting…")
        self.post_message(self.ConnectRequested(host.strip(), int(port), fields.display_name(name)))

    def set_status(self, text: str, *, error: bool = False) -> None:
        """Show a state line such as "Connecting…" or "Disconnected: <reason>" (shown literally)."""
        status = self.query_one("#status", Label)
        form.show_error(status, text)
        status.set_class(error, "error")
