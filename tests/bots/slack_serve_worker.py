"""``serve`` as its own process, for the multi-process tests (configured by the environment).

Logs go to stderr, where the tests read "listening on …" and "catch-up done".
"""

from __future__ import annotations

import logging
import sys

from writers_room.bots.serve import serve
from writers_room.config import Settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    serve(Settings(), http=True, port=0, host="127.0.0.1", pages_port=0)
