"""The chat client's own widgets, one per module."""

from __future__ import annotations

from chat_tui.widgets.composer import Composer
from chat_tui.widgets.connection_banner import ConnectionBanner, LinkStatus
from chat_tui.widgets.group_list import GroupList
from chat_tui.widgets.member_list import MemberList
from chat_tui.widgets.message_pane import MessagePane

__all__ = ["Composer", "ConnectionBanner", "GroupList", "LinkStatus", "MemberList", "MessagePane"]
