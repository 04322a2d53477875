"""A network fault between a program and its server: a TCP proxy that can go silent.

``NetFault(port)`` listens on 127.0.0.1 (a free port: ``.port``) and forwards every
connection to ``port``. ``blackhole()`` makes the network drop packets: nothing more
is forwarded either way, yet no connection is closed, and a new connection is accepted
(the proxy's kernel answers the handshake) but hears nothing, as when the route to a
server is lost and neither end is told. ``heal()`` forwards again; the connections held
through the blackhole are closed then, as a real TCP connection whose packets were lost
for long enough is given up by one end or the other.

It is the proxy's own kernel that acknowledges the bytes: to the program it is a server
that stopped answering, which is what matters above TCP (a statement waits for a result
that never comes; a connection's start-up waits for the server's first word). Stdlib
only: an asyncio loop in a thread of its own; ``stop()`` (or leaving a ``with``) closes
everything and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class _Link:
    """One connection through the proxy: the program's end and the server's (None while dark)."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.server: asyncio.StreamWriter | None = None
        self.dark = False  # open during a blackhole: closed on heal

    def close(self) -> None:
        """Both ends at once, unsent bytes dropped: the pumps end as their streams do."""
        for w in (self.client, self.server):
            if w is not None:
                w.transport.abort()


class NetFault:
    """A proxy to ``target_port`` that ``blackhole()`` silences and ``heal()`` restores."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._dark = False
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Listen and forward; the port to connect to instead of the server's."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="netfault", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def blackhole(self) -> None:
        """From now on every byte is dropped, both ways; every connection stays open."""

        async def go_dark() -> None:
            self._dark = True
            for link in self._links:
                link.dark = True

        self._call(go_dark())

    def heal(self) -> None:
        """Forward again; the connections held through the blackhole are closed."""

        async def go_light() -> None:
            for link in [link for link in self._links if link.dark]:
                self._drop(link)
            self._dark = False

        self._call(go_light())

    def stop(self) -> None:
        """Close every connection and the listening socket; end the thread."""
        if self._thread is None:
            return

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for link in list(self._links):
                self._drop(link)
            # every pump ends as its streams close (the accepting ones are not cancelled:
            # asyncio's streams would log that as an error)
            others = asyncio.all_tasks() - {asyncio.current_task()}
            if others:
                await asyncio.wait(others, timeout=5)

        with contextlib.suppress(Exception):  # whatever happens, the thread ends below
            self._call(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop.close()
        self._loop = None

    def __enter__(self) -> NetFault:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- in the proxy's thread ----------------------------------------------------------

    def _call(self, coro):
        """Run ``coro`` in the proxy's loop and wait for it: done when this returns."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _drop(self, link: _Link) -> None:
        link.close()
        self._links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        self._links.add(link)
        if self._dark:  # accepted (the kernel did), then silence: read and drop what comes
            link.dark = True
            await self._pump(reader, None, link)  # until heal() closes it
            return
        try:
            up_reader, link.server = await asyncio.open_connection(*self.target)
        except OSError:  # the server itself is down: refused, as it would be without the proxy
            self._drop(link)
            return
        await asyncio.gather(self._pump(reader, link.server, link),
                             self._pump(up_reader, writer, link))  # fmt: skip

    async def _pump(self, source: asyncio.StreamReader, to: asyncio.StreamWriter | None,
                    link: _Link) -> None:  # fmt: skip
        """Bytes from ``source`` to ``to`` until either end closes; dropped while dark."""
        try:
            while data := await source.read(65536):
                if self._dark or to is None:
                    continue  # lost on the way
                to.write(data)
                await to.drain()
        except ConnectionError:
            pass
        finally:
            # one end closed: so is the other, unless the network is dark (the other end
            # is not told: it learns on heal, as after a real fault)
            if not self._dark:
                self._drop(link)
