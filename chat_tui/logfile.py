"""The clients' log file: Textual captures stderr while the full-screen app runs, so a log line or a
traceback sent there is lost; one bounded, rotating file under the user's log directory keeps them.

Nothing secret is logged: events keep passwords and resume tokens out of their ``repr``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_BYTES = 1_000_000
"""Size at which the file rotates: the client logs a line per connection event, so this holds months."""
LOG_BACKUPS = 2
"""Rotated files kept beside the current one (``.1``, ``.2``): at most 3 MB on disk in all."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def logging_to(path: Path, level: int = logging.INFO) -> Iterator[RotatingFileHandler]:
    """Send every logger's records at ``level`` and above to ``path`` while the block runs.

    Raises:
        OSError: the file (or its directory) cannot be created or opened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, saved_level) if saved_level else level)  # 0 (NOTSET) already passes everything
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        handler.close()
