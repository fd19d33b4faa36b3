"""``python -m chat_server``."""

from __future__ import annotations

import sys

from chat_server.cli import main

sys.exit(main())
