"""Helper processes that talk to their parent over a socket pair.

The embedder's ONNX workers and the index's shard writers both run as fresh interpreters
(``python -c CODE FD ARGS…``), not through :mod:`multiprocessing`: nothing re-imports the
caller's main module, so scripts without a ``__main__`` guard work too. Each child gets one
end of a socket pair as file descriptor ``FD`` and exits when the parent closes its end.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection

__all__ = ["child_connection", "start_child", "stop_children"]


def start_child(code: str, *args: str) -> tuple[subprocess.Popen[bytes], Connection]:
    """Start ``python -c code FD *args``; returns the process and the parent's end."""
    mine, theirs = socket.socketpair()
    with theirs:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno()), *args],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
    return process, Connection(mine.detach())


def child_connection(fd: int) -> Connection:
    """In the child: its end of the pair, with Ctrl-C ignored.

    Ctrl-C reaches the whole process group: the parent handles it and closes the pipe.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return Connection(fd)


def stop_children(
    connections: Sequence[Connection],
    processes: Sequence[subprocess.Popen[bytes]],
    *,
    timeout: float,
) -> None:
    """Close the parent's ends (each child sees end-of-file and exits), then reap them;
    a child still running after ``timeout`` seconds is killed."""
    for connection in connections:
        connection.close()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
