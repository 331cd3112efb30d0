"""A small closed-loop HTTP/1.1 load generator (keep-alive, N connections, fixed duration).

wrk is not installed on these machines, so the benchmarks bring their own: raw asyncio streams
(no HTTP client library on the hot path) under uvloop. Every connection sends a request, reads
the whole response, records the latency and sends the next one.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    label: str
    requests: int = 0
    errors: int = 0
    bytes_in: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k]

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def row(self) -> str:
        mean = statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")
        return (
            f"{self.label:<44} {self.rps:>9.0f} req/s  p50 {self.pct(50):6.2f} ms  "
            f"p95 {self.pct(95):6.2f} ms  p99 {self.pct(99):6.2f} ms  mean {mean:6.2f} ms  "
            f"errors {self.errors}  statuses {dict(sorted(self.statuses.items()))}"
        )


def build_request(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    size = len(head)
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            n = int(size_line.strip(), 16)
            await reader.readexactly(n + 2)
            size += len(size_line) + n + 2
            if n == 0:
                break
    elif length:
        await reader.readexactly(length)
        size += length
    return status, size


async def run_load(
    label: str,
    host: str,
    port: int,
    request: bytes,
    *,
    connections: int = 64,
    duration_s: float = 10.0,
    warmup_s: float = 2.0,
) -> Result:
    result = Result(label)
    stop_at = 0.0
    measuring = False

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(request)
                try:
                    status, size = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    result.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if measuring:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                    result.requests += 1
                    result.bytes_in += size
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status >= 400:
                        result.errors += 1
        finally:
            writer.close()

    stop_at = time.perf_counter() + warmup_s + duration_s
    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    await asyncio.sleep(warmup_s)
    measuring = True
    measure_start = time.perf_counter()
    await asyncio.gather(*tasks)
    result.duration_s = time.perf_counter() - measure_start
    return result
