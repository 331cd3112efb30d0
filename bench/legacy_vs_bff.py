"""Legacy resource API versus the BFF for one salesperson's dashboard (issue: Salesperson/POS).

Variants, each at 0, 50 and 150 ms simulated round-trip time (bench/delay_proxy.py), gzip on:
  (a) the eight legacy calls of core.md §2.1 one after another on one keep-alive connection;
  (b) the eight in parallel on eight keep-alive connections;
  (c) one BFF call with a cold cache (a server started with TSH_CACHE_SCREENS=false);
  (d) one BFF call with a warm cache.
Per variant: requests, bytes on the wire (response headers + body as sent), p50/p95 over the
samples; plus the server-side time (metadata.response_time_ms) of the uncached dashboard.

    .venv/bin/python -m bench.legacy_vs_bff \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/tsh_large \
        --redis-url redis://127.0.0.1:6379/6 [--samples 100] [--skip-seed]

The database must hold the `large` profile for the figures the issue asks for
(`TSH_DATABASE_URL=... tsh seed --profile large`); with --skip-seed it is used as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import time
from dataclasses import dataclass, field

from bench.delay_proxy import DelayProxy
from bench.loadgen import build_request
from bench.server import login, prepare_database, run_async, running_server

USER = "salesperson1@demo.tsh.iq"
DASHBOARD = "/api/bff/mobile/salesperson/dashboard"


def legacy_paths(user_id: int) -> list[str]:
    return [
        f"/api/users/{user_id}",
        f"/api/orders?salesperson_id={user_id}",
        f"/api/orders/stats?user_id={user_id}",
        f"/api/customers?salesperson_id={user_id}",
        "/api/products/top-selling",
        f"/api/payments?salesperson_id={user_id}",
        f"/api/visits?user_id={user_id}",
        f"/api/targets?salesperson_id={user_id}",
    ]


@dataclass
class Sample:
    ms: float
    bytes: int
    requests: int


@dataclass
class Variant:
    label: str
    samples: list[Sample] = field(default_factory=list)

    def row(self) -> str:
        times = sorted(s.ms for s in self.samples)
        p = lambda q: times[min(len(times) - 1, round(q / 100 * (len(times) - 1)))]  # noqa: E731
        return (
            f"{self.label:<34} requests {self.samples[0].requests:>2}  bytes {self.samples[0].bytes:>9,}  "
            f"p50 {p(50):8.1f} ms  p95 {p(95):8.1f} ms  (n={len(times)})"
        )


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes, int]:
        self.writer.write(build_request("127.0.0.1", port, path, headers))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        body = b""
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                body += chunk[:-2]
                if size == 0:
                    break
        else:
            body = await self.reader.readexactly(int(fields.get(b"content-length", b"0")))
        wire = len(head) + len(body)
        if fields.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        return status, body, wire


async def _open(port: int, n: int) -> list[Conn]:
    return [Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(n)]


async def measure(
    server_port: int, token: str, user_id: int, rtt_ms: float, samples: int, cold_port: int, cold_token: str
) -> tuple[list[Variant], list[float]]:
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    cold_headers = {"Authorization": f"Bearer {cold_token}", "Accept-Encoding": "gzip"}
    paths = legacy_paths(user_id)
    seq, par, cold, warm = (
        Variant(f"(a) 8 legacy sequential @{rtt_ms:g}ms"),
        Variant(f"(b) 8 legacy parallel @{rtt_ms:g}ms"),
        Variant(f"(c) BFF cold @{rtt_ms:g}ms"),
        Variant(f"(d) BFF warm @{rtt_ms:g}ms"),
    )
    server_ms: list[float] = []
    async with DelayProxy(server_port, rtt_ms) as proxy, DelayProxy(cold_port, rtt_ms) as cold_proxy:
        one = (await _open(proxy.port, 1))[0]
        eight = await _open(proxy.port, 8)
        cold_conn = (await _open(cold_proxy.port, 1))[0]
        for _ in range(samples):
            t = time.perf_counter()
            wire = 0
            for path in paths:
                status, _, w = await one.get(proxy.port, path, headers)
                assert status == 200, (path, status)
                wire += w
            seq.samples.append(Sample((time.perf_counter() - t) * 1000, wire, len(paths)))

            t = time.perf_counter()
            results = await asyncio.gather(
                *(c.get(proxy.port, p, headers) for c, p in zip(eight, paths, strict=True))
            )
            par.samples.append(
                Sample((time.perf_counter() - t) * 1000, sum(r[2] for r in results), len(paths))
            )

            t = time.perf_counter()
            status, body, wire = await cold_conn.get(cold_proxy.port, DASHBOARD, cold_headers)
            assert status == 200, status
            cold.samples.append(Sample((time.perf_counter() - t) * 1000, wire, 1))
            server_ms.append(json.loads(body)["metadata"]["response_time_ms"])

            t = time.perf_counter()
            status, body, wire = await one.get(proxy.port, DASHBOARD, headers)
            assert status == 200 and json.loads(body)["metadata"]["cached"] in (True, False)
            warm.samples.append(Sample((time.perf_counter() - t) * 1000, wire, 1))
    return [seq, par, cold, warm], server_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--rtts", default="0,50,150")
    ap.add_argument("--skip-seed", action="store_true")
    args = ap.parse_args()
    if not args.skip_seed:
        prepare_database(args.database_url)
    base = {"TSH_DATABASE_URL": args.database_url, "TSH_REDIS_URL": args.redis_url}
    with running_server(base) as port, running_server({**base, "TSH_CACHE_SCREENS": "false"}) as cold_port:
        token, cold_token = login(port, USER), login(cold_port, USER)
        import urllib.request

        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req) as r:
            user_id = json.loads(r.read())["data"]["user"]["id"]
        all_server_ms: list[float] = []
        for rtt in (float(x) for x in args.rtts.split(",")):
            # Access tokens live 15 minutes and a round at 150 ms RTT takes several: log in again.
            token, cold_token = login(port, USER), login(cold_port, USER)
            variants, server_ms = run_async(
                measure(port, token, user_id, rtt, args.samples, cold_port, cold_token)
            )
            all_server_ms += server_ms
            for v in variants:
                print(v.row(), flush=True)
            a, d = variants[0], variants[3]
            a50 = statistics.median(s.ms for s in a.samples)
            d50 = statistics.median(s.ms for s in d.samples)
            print(
                f"   warm BFF vs (a): {100 * (1 - d50 / a50):.1f} % less time, "
                f"{100 * (1 - d.samples[0].bytes / a.samples[0].bytes):.1f} % fewer bytes\n",
                flush=True,
            )
        s = sorted(all_server_ms)
        p50, p99 = s[len(s) // 2], s[int(0.99 * (len(s) - 1))]
        print(f"uncached dashboard server-side: p50 {p50:.2f} ms  p99 {p99:.2f} ms (n={len(s)})")


if __name__ == "__main__":
    main()
