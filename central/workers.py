"""``central serve --workers N``: N processes answering on one port (Linux SO_REUSEPORT).

The parent reserves the port (a free one for ``--port 0``), makes the data dir's
shared files once (so workers do not race to create them), then forks N
workers; each runs the whole application with its own listening socket on that
port, and the kernel spreads connections across them. The parent prints
``listening on URL`` once every worker listens, passes SIGTERM/SIGINT on, and
exits when they have. A worker that dies takes the others down and the parent
exits non-zero, so the supervisor (systemd) restarts the service as a whole.

Nothing is shared between workers but the database: idempotency keys, acceptance
and ticket numbers, nonces and revocation are all enforced there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from central.config import CentralConfig

log = logging.getLogger("central.workers")
START_TIMEOUT = 60.0  # seconds for every worker to migrate and listen


def reserve(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening: it holds the port
    (the kernel picks one for 0) while workers bind their own listening sockets to it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    hold = socket.socket(family, socket.SOCK_STREAM)
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    hold.bind((host, port))
    return hold


def _prepare_data_dir(config: CentralConfig) -> None:
    from central.dashboard.security import load_secret
    from central.sealing import load_key

    config.data_dir.mkdir(parents=True, exist_ok=True)
    load_key(config.data_dir)
    load_secret(config.data_dir)


def serve(config: CentralConfig, host: str, port: int, workers: int,
          run: Callable[..., Coroutine[Any, Any, None]]) -> int:  # fmt: skip
    """Run ``run(config, host, port, reuse_port=True, ready_fd=fd)`` in ``workers`` processes.

    Returns the exit status: 0 after a clean stop, 1 when a worker failed.
    """
    _prepare_data_dir(config)
    hold = reserve(host, port)
    port = hold.getsockname()[1]
    ready_r, ready_w = os.pipe()
    children: dict[int, int] = {}  # pid -> worker number
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for n in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: no threads or event loop exist yet in the parent
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # until its event loop takes them
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            hold.close()
            os.close(ready_r)
            status = 0
            try:
                asyncio.run(run(config, host, port, reuse_port=True, ready_fd=ready_w))
            except BaseException:
                logging.getLogger("central").exception("worker %d failed", n)
                status = 1
            finally:
                logging.shutdown()
                os._exit(status)
        children[pid] = n
        if stopping:  # asked to stop while starting
            _kill(pid, signal.SIGTERM)
    os.close(ready_w)
    status = 0
    try:
        if not _wait_ready(ready_r, workers, children):
            if not stopping:
                log.error("a worker did not start (died, or not listening within %.0f s)",
                          START_TIMEOUT)  # fmt: skip
                status = 1
            stop(signal.SIGTERM, None)
        else:
            print(f"listening on http://{host}:{port}", flush=True)
        hold.close()  # the workers hold the port now
        while children:
            try:
                pid, wstatus = os.wait()
            except ChildProcessError:
                break
            n = children.pop(pid, None)
            code = os.waitstatus_to_exitcode(wstatus)
            if not stopping and n is not None:
                log.error("worker %d (pid %d) exited with %d; stopping the others", n, pid, code)
                status = 1
                stop(signal.SIGTERM, None)
            elif code not in (0, -signal.SIGTERM):
                status = 1
    finally:
        os.close(ready_r)
    return status


def _wait_ready(fd: int, workers: int, children: dict[int, int]) -> bool:
    """True once every worker wrote its byte; False on a timeout or a worker's death."""
    got, deadline = 0, time.monotonic() + START_TIMEOUT
    while got < workers:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([fd], [], [], min(left, 0.5))
        if readable:
            data = os.read(fd, workers)
            if not data:  # every worker closed the pipe: they are gone
                return False
            got += len(data)
        for pid in list(children):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                children.pop(pid)
                return False
    return True


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
