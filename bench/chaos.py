"""Chaos run against deploy/local-cluster.sh: cashiers keep selling through nginx while an instance
is killed, Redis connections are cut, the PostgreSQL primary restarts and the replica stops;
afterwards the database must show every acknowledged sale exactly once and a sound ledger.

    deploy/local-cluster.sh up
    PYTHONPATH=src .venv/bin/python -m bench.chaos [--phase-s 20]

Each cashier (a demo user with a terminal) opens or reuses a shift, then loops: start a sale
(POS-09), set one line (POS-11), read the shift screen (POS-04) and the dashboard (POS-01), pay
cash (POS-12, one Idempotency-Key per sale, retried with the same key until it is answered).
A client gives up on an operation after GIVE_UP_S; every attempt is counted per phase.
Only the POS app is driven (the salesperson flow is not part of this run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2 as httpx
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tsh.domain.accounting import posting
from tsh.domain.catalog.models import PriceList, PriceListItem, Product
from tsh.domain.identity.models import User
from tsh.domain.inventory.models import StockLevel
from tsh.domain.inventory.stock import stock_invariant_violations
from tsh.domain.pos.models import PosTender, PosTerminal, PosTransaction, Shift

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "var" / "cluster"
EDGE = "https://127.0.0.1:18443"
PRIMARY = "postgresql+asyncpg://postgres@127.0.0.1:5434/tsh_cluster"
REDIS = "redis://127.0.0.1:6379/6"
PASSWORD = "demo1234"
CASHIERS = {
    "cashier1@demo.tsh.iq": "BGD-POS-1",
    "cashier2@demo.tsh.iq": "BSR-POS-1",
    "branch_manager1@demo.tsh.iq": "BGD-POS-2",
}
GIVE_UP_S = 30.0
# One sale a second per cashier stays inside the default per-user limit (300 requests/minute).
PACE_S = 1.0
POS = "/api/bff/mobile/pos"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failed_ops: int = 0
    ops: int = 0


@dataclass
class Run:
    phase: Phase
    phases: list[Phase] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)  # sale id -> Idempotency-Key
    given_up_payments: list[int] = field(default_factory=list)
    orphan_reuses: int = 0
    stop: bool = False


def as_pg(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def pg_ctl(data: str, *args: str) -> None:
    bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    # Output to a file: the server pg_ctl starts would otherwise hold a pipe open forever.
    log = str(CLUSTER / "logs" / {"pg-primary": "postgres-5434.log", "pg-replica": "postgres-5433.log"}[data])
    subprocess.run(as_pg(str(bin_dir / "pg_ctl"), "-D", str(CLUSTER / data), "-l", log, *args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def request(
    run: Run, client: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """One attempt, counted in the current phase; None when no HTTP answer came back."""
    phase = run.phase
    started = time.perf_counter()
    try:
        r = await client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        phase.latencies.append(time.perf_counter() - started)
        phase.statuses["no answer"] += 1
        phase.codes[type(exc).__name__] += 1
        return None
    phase.latencies.append(time.perf_counter() - started)
    phase.statuses[f"{r.status_code // 100}xx"] += 1
    if r.status_code >= 400:
        try:
            code = r.json().get("error_code", str(r.status_code))
        except ValueError:
            code = f"{r.status_code} (not JSON)"
        if r.status_code >= 500:
            code += " " + method + " " + re.sub(r"/\d+", "/{id}", path.removeprefix(POS))
        phase.codes[code] += 1
    return r


async def operation(
    run: Run, client: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """What the phone does: retry a 5xx / 429 / lost answer (same headers, so the same
    Idempotency-Key) with backoff until an answer below 500 or GIVE_UP_S."""
    deadline = time.monotonic() + GIVE_UP_S
    delay = 0.2
    run.phase.ops += 1
    while True:
        r = await request(run, client, method, path, **kw)
        if r is not None and r.status_code < 500 and r.status_code != 429:
            return r
        if time.monotonic() + delay > deadline:
            run.phase.failed_ops += 1
            return r
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def cashier(run: Run, email: str, terminal_id: int, products: list[int], engine: Any) -> None:
    async with httpx.AsyncClient(base_url=EDGE, verify=False, timeout=10.0) as client:
        r = await operation(run, client, "POST", "/api/auth/login",
                            json={"email": email, "password": PASSWORD, "app": "pos"})  # fmt: skip
        assert r is not None and r.status_code == 200, r and r.text
        client.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"
        current = await operation(run, client, "GET", f"{POS}/shifts/current")
        if current is None or current.status_code != 200:
            body = {"terminal_id": terminal_id, "opening_float": [{"amount": "500000.00", "currency": "IQD"}]}
            r = await operation(run, client, "POST", f"{POS}/shifts", json=body,
                                headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
            assert r is not None and r.status_code in (200, 201), r and r.text
        while not run.stop:
            began = time.monotonic()
            await sell_one(run, client, email, products, engine)
            await asyncio.sleep(max(0.0, PACE_S - (time.monotonic() - began)))


async def sell_one(run: Run, client: httpx.AsyncClient, email: str, products: list[int], engine: Any) -> None:
    r = await operation(run, client, "POST", f"{POS}/transactions", json={})
    if r is not None and r.status_code == 409 and r.json().get("error_code") == "TOO_MANY_OPEN":
        # A start whose answer was lost left an open sale behind; the till shows parked sales,
        # so the cashier carries on with one of them.
        sale_id = await open_sale_of(engine, email)
        run.orphan_reuses += 1
    elif r is None or r.status_code != 201:
        return
    else:
        sale_id = r.json()["data"]["id"]
    lines = {"lines": [{"product_id": random.choice(products), "qty": 1}]}
    r = await operation(run, client, "PUT", f"{POS}/transactions/{sale_id}/lines", json=lines)
    if r is None or r.status_code != 200:
        return
    total = r.json()["data"]["total"]
    await operation(run, client, "GET", f"{POS}/shifts/current")
    await operation(run, client, "GET", f"{POS}/dashboard")
    key = uuid.uuid4().hex
    body = {"tenders": [{"method": "cash", "amount": total}]}
    r = await operation(run, client, "POST", f"{POS}/transactions/{sale_id}/payments", json=body,
                        headers={"Idempotency-Key": key})  # fmt: skip
    if r is not None and r.status_code == 200:
        run.acked[sale_id] = key
    elif r is None or r.status_code >= 500:
        run.given_up_payments.append(sale_id)


async def open_sale_of(engine: Any, email: str) -> int:
    async with AsyncSession(engine) as s:
        uid = await s.scalar(select(User.id).where(User.email == email))
        return int(await s.scalar(select(func.min(PosTransaction.id)).join(Shift).where(
            Shift.cashier_id == uid, PosTransaction.status == "open")))  # fmt: skip


async def setup(engine: Any) -> tuple[dict[str, int], dict[str, list[int]]]:
    terminals, products = {}, {}
    async with AsyncSession(engine) as s:
        for email, code in CASHIERS.items():
            t = (await s.execute(select(PosTerminal).where(PosTerminal.code == code))).scalar_one()
            terminals[email] = t.id
            rows = await s.execute(
                select(Product.id)
                .join(StockLevel, StockLevel.product_id == Product.id)
                .join(PriceListItem, PriceListItem.product_id == Product.id)
                .join(PriceList, PriceList.id == PriceListItem.price_list_id)
                .where(
                    StockLevel.warehouse_id == t.warehouse_id,
                    StockLevel.on_hand - StockLevel.reserved >= 50,
                    Product.is_active.is_(True),
                    Product.is_serialised.is_(False),
                    PriceList.channel == "pos",
                    PriceList.branch_id == t.branch_id,
                    PriceListItem.min_qty == 1,
                    PriceListItem.valid_to.is_(None),
                )
                .order_by(StockLevel.on_hand.desc())
                .limit(20)
            )
            products[email] = [row[0] for row in rows]
            assert products[email], f"no stocked POS product for {code}"
    return terminals, products


# -- faults ---------------------------------------------------------------------------------


def kill_instance(port: int) -> None:
    pid = int((CLUSTER / "run" / f"tsh-{port}.pid").read_text())
    os.kill(pid, signal.SIGKILL)


def restore_cluster() -> None:
    subprocess.run([str(ROOT / "deploy" / "local-cluster.sh"), "up"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def cut_redis_connections(run: Run, until: float) -> int:
    """Kill every client connection on database 6 (the cluster's; nobody else's) every 200 ms."""
    admin = Redis.from_url(REDIS)
    cut = 0
    own = admin.client_id()
    while time.monotonic() < until:
        for c in admin.client_list():
            if c.get("db") == "6" and int(c["id"]) != own:
                cut += int(admin.client_kill_filter(_id=c["id"]))
        await asyncio.sleep(0.2)
    admin.close()
    return cut


async def chaos(run: Run, phase_s: float) -> list[str]:
    notes = []

    async def phase(name: str) -> None:
        run.phase = Phase(name)
        run.phases.append(run.phase)

    run.phases.append(run.phase)
    await asyncio.sleep(phase_s)
    await phase("instance 18102 killed")
    kill_instance(18102)
    await asyncio.sleep(phase_s)
    await asyncio.to_thread(restore_cluster)
    await phase("redis connections cut")
    cut = await cut_redis_connections(run, time.monotonic() + phase_s)
    notes.append(f"redis: {cut} connections cut")
    await phase("postgres primary restart")
    began = time.monotonic()
    await asyncio.to_thread(pg_ctl, "pg-primary", "-m", "fast", "-w", "restart")
    notes.append(f"primary restart took {time.monotonic() - began:.1f} s")
    await asyncio.sleep(phase_s)
    await phase("replica stopped")
    await asyncio.to_thread(pg_ctl, "pg-replica", "-m", "fast", "-w", "stop")
    await asyncio.sleep(phase_s)
    await asyncio.to_thread(
        pg_ctl, "pg-replica", "-w", "-l", str(CLUSTER / "logs/postgres-5433.log"), "start"
    )
    await phase("recovered")
    await asyncio.sleep(phase_s)
    run.stop = True
    return notes


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def invariants(engine: Any, run: Run, started: float) -> dict[str, Any]:
    async with AsyncSession(engine) as s:
        completed = dict(
            (
                await s.execute(
                    select(PosTransaction.id, PosTransaction.status).where(
                        PosTransaction.id.in_(list(run.acked) + run.given_up_payments)
                    )
                )
            ).all()
        )
        tenders = dict(
            (
                await s.execute(
                    select(PosTender.transaction_id, func.count())
                    .where(PosTender.transaction_id.in_(list(run.acked)))
                    .group_by(PosTender.transaction_id)
                )
            ).all()
        )
        return {
            "acknowledged payments": len(run.acked),
            "acknowledged but not completed (lost)": sum(completed.get(i) != "completed" for i in run.acked),
            "acknowledged with != 1 tender (duplicated)": sum(tenders.get(i, 0) != 1 for i in run.acked),
            "given up by the client": len(run.given_up_payments),
            "given up but completed (applied, answer lost)": sum(
                completed.get(i) == "completed" for i in run.given_up_payments
            ),
            "trial balance (base)": str(await posting.trial_balance(s)),
            "unbalanced journal entries": len(await posting.unbalanced_entries(s)),
            "stock: on hand != sum of movements": len(await stock_invariant_violations(s)),
            "stock: negative on hand": await s.scalar(
                select(func.count()).select_from(StockLevel).where(StockLevel.on_hand < 0)
            ),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase-s", type=float, default=20.0)
    args = parser.parse_args()
    engine = create_async_engine(PRIMARY, pool_pre_ping=True)
    terminals, products = await setup(engine)
    run = Run(Phase("baseline"))
    load_before = os.getloadavg()
    started = time.time()
    workers = [asyncio.create_task(cashier(run, e, terminals[e], products[e], engine)) for e in CASHIERS]
    notes = await chaos(run, args.phase_s)
    await asyncio.gather(*workers)
    load_after = os.getloadavg()
    load = f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} cores)"
    print(f"chaos run: {len(CASHIERS)} cashiers through nginx, {args.phase_s:.0f} s per phase, {load}")
    print("| phase | attempts | p95 ms | 2xx | 4xx | 5xx | no answer | ops | ops failed | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ph in run.phases:
        errors = ", ".join(f"{k} {v}" for k, v in ph.codes.most_common()) or "-"
        print(
            f"| {ph.name} | {len(ph.latencies)} | {p95(ph.latencies) * 1000:.0f} | {ph.statuses['2xx']} "
            f"| {ph.statuses['4xx']} | {ph.statuses['5xx']} | {ph.statuses['no answer']} | {ph.ops} "
            f"| {ph.failed_ops} | {errors} |"
        )
    for note in notes:
        print(f"- {note}")
    print(f"- open sales reused after TOO_MANY_OPEN: {run.orphan_reuses}")
    checks = await invariants(engine, run, started)
    for name, value in checks.items():
        print(f"- {name}: {value}")
    await engine.dispose()
    sound = (
        checks["acknowledged but not completed (lost)"] == 0
        and checks["acknowledged with != 1 tender (duplicated)"] == 0
        and Decimal(checks["trial balance (base)"]) == 0
        and checks["unbalanced journal entries"] == 0
        and checks["stock: on hand != sum of movements"] == 0
        and checks["stock: negative on hand"] == 0
    )
    print("invariants hold" if sound else "INVARIANTS BROKEN")
    raise SystemExit(0 if sound else 1)


if __name__ == "__main__":
    asyncio.run(main())
