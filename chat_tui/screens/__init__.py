"""The client's screens and dialogs, one per module."""

from __future__ import annotations

from chat_tui.screens.chat import ChatScreen
from chat_tui.screens.confirm import ConfirmDialog
from chat_tui.screens.connect import ConnectScreen
from chat_tui.screens.create import CreateDialog
from chat_tui.screens.home import HomeScreen
from chat_tui.screens.join import JoinDialog

__all__ = ["ChatScreen", "ConfirmDialog", "ConnectScreen", "CreateDialog", "HomeScreen", "JoinDialog"]
