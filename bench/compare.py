"""groupchat beside Redis pub/sub, per server CPU-second, in one run (issue 11). See bench/RESULTS.md.

    python bench/compare.py                      # the three workloads, 3 interleaved reps, a Markdown table
    python bench/compare.py --baseline /tmp/base # plus the server of another checkout (git worktree add)
    python bench/compare.py --help

The work is done by ``chat_server.bench.compare`` (the same generator as ``chat-bench``).
"""

from __future__ import annotations

import sys

from chat_server.bench.compare import main

if __name__ == "__main__":
    sys.exit(main())
