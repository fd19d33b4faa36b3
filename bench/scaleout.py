"""Several server processes over one Redis beside one process on SQLite (issue 12). See bench/RESULTS.md.

    python bench/scaleout.py                       # 3 workloads x 3 set-ups, 3 interleaved reps
    python bench/scaleout.py --servers 3 --only 1  # three processes, the first workload only
    python bench/scaleout.py --help

The work is done by ``chat_server.bench.scaleout`` (the same generator as ``chat-bench``).
"""

from __future__ import annotations

import sys

from chat_server.bench.scaleout import main

if __name__ == "__main__":
    sys.exit(main())
