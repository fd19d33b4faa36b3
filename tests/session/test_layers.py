"""The session layer stands on its own: no Textual in it, and views reach it only through its API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chat_tui

PACKAGE = Path(chat_tui.__file__).parent


def test_the_session_package_imports_no_textual() -> None:
    code = (
        "import sys, chat_tui.session, chat_tui.session.timeline, chat_tui.plain_printer;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_screen_or_widget_imports_the_link_layer() -> None:
    offenders = {
        str(path.relative_to(PACKAGE))
        for folder in ("screens", "widgets")
        for path in (PACKAGE / folder).glob("*.py")
        if any(name == "chat_tui.session.link" or name.startswith("chat_tui.session.link.") for name in _imported(path))
    }
    assert offenders == set()
