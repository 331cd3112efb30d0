"""Deterministic demo data: a consistent Iraqi electronics distributor with a year of history.

`run_seed(settings, profile="demo")` fills a migrated database in one transaction:
organisation → staff → ledger set-up → catalogue → customers → twelve months of orders, POS,
stock and postings → HR, after-sales, security → year-end closing. Randomness comes from one
`random.Random(SEED)`; "today" is the date the seed runs (Asia/Baghdad), so the dashboards of the
day have data. Profiles: `demo` (seconds; what `tsh run` and the test suite load) and `large`
(a million orders, streamed in chunks; see ledger.py for how its history is posted).

Rows are written with the bulk writer (bulk.py), never through the ORM: nothing is written to the
delta-sync change log and no domain events are published (caches start empty; phones start with a
full sync). Invariants the tests check (tests/domain/test_seed_invariants.py): every entry balances
in its currency and in IQD, on hand = Σ movements ≥ 0, reserved = Σ reservations, order and invoice
arithmetic, allocations within invoice totals, one exchange rate in force.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from sqlalchemy import func, select

from tsh.config import Settings
from tsh.domain.accounting import balances
from tsh.domain.identity.models import User
from tsh.domain.sales.daily_sales import roll_up_product_sales
from tsh.platform.auth.passwords import hash_password
from tsh.platform.db.engine import Database
from tsh.seed import (
    admin,
    aftersales,
    catalog,
    customers,
    field,
    finance,
    history,
    hr,
    inventory,
    organisation,
    people,
    pos,
    reconcile,
    sales,
    security,
    stock_ops,
)
from tsh.seed.bulk import BulkWriter, IdAllocator, analyze, delete_business_data, reset_sequences
from tsh.seed.context import PROFILES, SEED, SeedContext
from tsh.seed.demo_users import DEMO_PASSWORD
from tsh.seed.reference import ensure_reference

__all__ = ["PROFILES", "run_seed"]


async def run_seed(
    settings: Settings, *, profile: str = "demo", reset: bool = False, if_empty: bool = False
) -> str:
    """Seed the database; returns a one-line report with row counts and seconds."""
    if profile not in PROFILES:
        raise ValueError(f"unknown seed profile {profile!r} (choose from {', '.join(PROFILES)})")
    prof = PROFILES[profile]
    started = time.perf_counter()
    log: Callable[[str], None] = (
        (lambda msg: print(msg, flush=True)) if profile != "demo" else (lambda _msg: None)
    )
    db = Database(settings)
    try:
        async with db.session() as session:
            users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
        if users and not reset:
            if if_empty:
                return f"seed skipped: the database already has {users} users"
            raise RuntimeError(
                "the database already holds data; seed with reset=True (--reset) to replace it"
            )
        if reset:
            await delete_business_data(db.engine)
        async with db.session() as session, session.begin():
            ref = await ensure_reference(session)
            ids = IdAllocator()
            await ids.prime(session)
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            writer = BulkWriter(session, clock=now, flush_rows=prof.flush_rows, progress=log)
            ctx = SeedContext(profile=prof, now=now, rng=random.Random(SEED), ids=ids, writer=writer, log=log)
            log(f"seeding profile {profile} as of {ctx.today}")
            password_hash = await hash_password(DEMO_PASSWORD)

            organisation.generate(ctx)
            people.generate(ctx, role_ids=ref.role_ids, password_hash=password_hash)
            await writer.flush()  # staff users exist before the customers that name their salesperson
            books = finance.setup(ctx, ref)
            customers.tiers(ctx)
            cat = catalog.generate(ctx, ref)
            customers.generate(ctx, cat, role_ids=ref.role_ids)
            users_by = ctx.refs["users"]
            wh = ctx.refs["warehouses"]
            ctx.refs["warehouse_receivers"] = {
                wh["BGD-MAIN"]: users_by["warehouse_staff1"],
                wh["BSR-MAIN"]: users_by["warehouse_staff2"],
                wh["ERB-MAIN"]: users_by["warehouse_staff_erb"],
            }
            book = inventory.new_book(ctx, cat, books)
            runs = hr.plan_payroll(ctx)
            await writer.flush()
            log(f"  reference and master data written in {time.perf_counter() - started:.1f}s")

            seller = sales.SalesGen(ctx, cat, books, book, runs)
            till = pos.PosGen(ctx, cat, books, book, seller)
            service = aftersales.AfterSales(ctx, cat, books, book, seller.reg)
            ops = stock_ops.StockOps(ctx, cat, books, book)

            async def settle_current() -> None:
                ops.register()
                service.generate()
                book.settle(ctx.today.replace(day=1), last=True)
                ops.write()
                await writer.flush()

            await history.History(ctx, seller, till).run(writer.maybe_flush, settle_current)
            book.write_levels()
            field.targets(ctx, seller.reg)
            payout_updates = field.payouts(ctx, seller.reg, books)
            field.reviews(ctx, seller.reg)
            run_updates = hr.generate(ctx, seller.reg, books)
            security.generate(ctx)
            await writer.flush()
            await admin.generate(ctx, session)
            await service.finish()
            await writer.update("pos_lines", till.refunded_lines)
            if books.summary_mode:
                books.flush_summaries()
            finance.tax_returns(ctx, books)
            finance.statement_lines(ctx, books)
            period_updates = finance.close_years(ctx, books)
            await writer.flush()
            await writer.update("fiscal_periods", period_updates)
            await writer.update("journal_entries", books.summary_totals)
            await writer.update("payroll_runs", run_updates)
            await writer.update("commission_payouts", payout_updates)
            branch_rows = [{"id": bid, "manager_id": uid} for bid, uid in ctx.refs["branch_managers"].items()]
            await writer.update("branches", branch_rows)
            depts = ctx.refs["departments"]
            heads = ctx.refs["department_heads"]
            await writer.update("departments", [{"id": depts[k], "head_id": e} for k, e in heads.items()])
            await writer.update("counts", ops.count_updates)
            await reset_sequences(session)
            await balances.rebuild(session)
            # The business data was just deleted (mark included), so this builds every day.
            await roll_up_product_sales(session, now=ctx.now)
            # Services insert with the sequences, so they run after reset_sequences.
            await reconcile.generate(
                session,
                accountant_id=ctx.refs["users"]["accountant1"],
                bank_ids=ctx.refs.get("bank_account_ids", {}),
                today=ctx.today,
            )
            log("  committing")
        await analyze(db.engine)
    finally:
        await db.dispose()
    counts = writer.counts
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    return (
        f"seeded profile {profile}: {counts.get('users', 0)} users, {counts.get('customers', 0)} customers, "
        f"{counts.get('products', 0)} products, {counts.get('orders', 0)} orders "
        f"({counts.get('order_lines', 0)} lines), {counts.get('pos_transactions', 0)} POS sales, "
        f"{counts.get('journal_entries', 0)} journal entries, "
        f"{counts.get('stock_movements', 0)} stock movements; "
        f"{total} rows in {seconds:.1f}s"
    )
