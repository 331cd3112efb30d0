"""A TCP proxy on loopback that adds a fixed round-trip time (the kernel here has no netem).

Each chunk is delivered RTT/2 after it arrived, in order, per direction; chunks in flight do not
wait for each other, so bandwidth is not throttled, only latency added.
"""

from __future__ import annotations

import asyncio
import contextlib
import time


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    task = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.perf_counter() + delay_s, data))
    except ConnectionError:
        pass
    finally:
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(Exception):
            await task


class DelayProxy:
    def __init__(self, target_port: int, rtt_ms: float) -> None:
        self.target_port = target_port
        self.one_way_s = rtt_ms / 2000
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DelayProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Close the live connections so every handler ends on its own: a handler left to be
        # cancelled when the loop shuts down makes asyncio (3.11) log "Exception in callback".
        if self.server:
            self.server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(client_w)
        server_w: asyncio.StreamWriter | None = None
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
            self._writers.add(server_w)
            await asyncio.gather(
                _pipe(client_r, server_w, self.one_way_s), _pipe(server_r, client_w, self.one_way_s)
            )
        except ConnectionError:
            pass
        finally:
            for writer in (client_w, server_w):
                if writer is not None:
                    self._writers.discard(writer)
                    with contextlib.suppress(Exception):
                        writer.close()
            self._handlers.discard(task)
