"""ConnectionBanner: one line saying what the connection is doing ("Connection lost: … reconnecting in 4 s…").

Every screen that shows one watches the app's ``connection_status``, so the state lives in one place
and a banner on a screen pushed later shows it too. Hidden while the connection is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.content import Content
from textual.widgets import Static

from chat_tui.sanitize import sanitize_line

StatusKind = Literal["ok", "lost", "back"]


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What the banner says: ``text`` (shown literally) and how it looks."""

    text: str = ""
    kind: StatusKind = "ok"


class ConnectionBanner(Static):
    """Shows the app's ``connection_status``; its CSS classes are ``-lost`` and ``-back``."""

    DEFAULT_CSS = """
    ConnectionBanner {
        display: none;
        height: 1;
        padding: 0 1;
        text-style: bold;
    }
    ConnectionBanner.-lost {
        display: block;
        background: $error;
        color: $text;
    }
    ConnectionBanner.-back {
        display: block;
        background: $success;
        color: $text;
    }
    """

    def on_mount(self) -> None:
        """Follow the app's connection status from now on (and show the current one)."""
        self.watch(self.app, "connection_status", self.show_status)

    def show_status(self, status: LinkStatus) -> None:
        """Show ``status``; an "ok" status hides the banner."""
        self.update(Content(sanitize_line(status.text)))
        self.set_class(status.kind == "lost", "-lost")
        self.set_class(status.kind == "back", "-back")
