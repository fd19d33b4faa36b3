"""``python -m chat_server.bench``: the same as ``chat-bench``."""

import sys

from chat_server.bench.cli import main

sys.exit(main())
