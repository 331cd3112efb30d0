"""Each scheduled job's effect on the database (tsh.domain.jobs), run through the job runner with
an explicit `now`; a second run at the same `now` changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from tests.bff.consumer.test_account_and_returns import _expiring_order
from tests.bff.hr.conftest import EMP1, HR1, employee_of
from tests.bff.hr.test_hiring import _hire
from tests.bff.sync.client import new_customer, sync
from tests.http import Api, demo

from tsh.context import AppContext
from tsh.domain.hr.models import Employee
from tsh.domain.identity.models import Notification, User, UserSession
from tsh.domain.jobs import catalogue, job_named
from tsh.domain.sales.models import Order
from tsh.domain.shared import business_today, day_start_utc
from tsh.domain.sync.models import ChangeLog
from tsh.platform.auth.passwords import hash_password
from tsh.platform.db.base import utcnow
from tsh.platform.idempotency import IdempotencyRecord
from tsh.platform.scheduler import JobResult, run_job

SP1 = demo("salesperson", 1)
CONSUMER_ORDERS = "/api/bff/mobile/orders"  # the consumer app has no segment


async def _run(ctx: AppContext, name: str, now: dt.datetime, **settings: Any) -> JobResult:
    job = job_named(ctx.settings.model_copy(update=settings), name)
    result = await run_job(job, db=ctx.db, bus=ctx.bus, now=now)
    assert result.outcome == "ok", result.error
    return result


def test_every_job_has_a_unique_name_and_a_valid_schedule(ctx: AppContext) -> None:
    jobs = catalogue(ctx.settings)
    assert len({j.name for j in jobs}) == len(jobs) == 6
    assert len({j.lock_key for j in jobs}) == len(jobs)
    for job in jobs:
        assert job.trigger() is not None and job.description


# -- unpaid online orders -----------------------------------------------------------------------


async def test_an_unpaid_online_order_is_cancelled_company_wide_and_its_screen_refreshed(
    client: Any, ctx: AppContext
) -> None:
    order, headers, (reserved, before) = await _expiring_order(client, ctx)
    # The order screen was cached as `pending` (by _expiring_order); the job's OrderChanged drops it.
    result = await _run(ctx, "expire_unpaid_online_orders", utcnow())
    assert result.changed >= 1
    async with ctx.db.session() as s:
        status, reason = (
            await s.execute(select(Order.status, Order.cancel_reason).where(Order.id == order["id"]))
        ).one()
    assert (status, reason) == ("cancelled", "payment_timeout")
    assert await reserved() == before, "its reserved stock is released"
    r = await client.get(f"{CONSUMER_ORDERS}/{order['id']}", headers=headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    again = await _run(ctx, "expire_unpaid_online_orders", utcnow())
    assert again.changed == 0


# -- future terminations ------------------------------------------------------------------------


async def test_a_future_termination_is_applied_on_its_day(api: Api) -> None:
    hr, ctx = api.app("hr"), api.ctx
    email = f"leaver-{secrets.token_hex(4)}@tsh.iq"
    eid = await _hire(hr, await employee_of(hr, EMP1), create_user={"email": email, "role": "cashier"})
    async with api.db() as s:
        user = (await s.execute(select(User).where(User.email == email))).scalar_one()
        user.password_hash = await hash_password("Leaver-pass-1234")
        await s.commit()
    await api.auth.login(email, "Leaver-pass-1234", fresh=True)
    day = business_today() + dt.timedelta(days=2)
    body = {"status": "terminated", "termination_date": str(day), "termination_reason": "Contract ended"}
    assert (await hr.send(HR1, "PATCH", f"/employees/{eid}", body)).status_code == 200

    async def state() -> tuple[str, str, int]:
        async with api.db() as s:
            e = await s.get_one(Employee, eid, populate_existing=True)
            u = await s.get_one(User, e.user_id, populate_existing=True)
            live = await api.count(UserSession, UserSession.user_id == u.id, UserSession.revoked_at.is_(None))
            return e.status, u.status, live

    the_day_before = day_start_utc(day) - dt.timedelta(hours=1)
    await _run(ctx, "apply_due_terminations", the_day_before)
    assert await state() == ("active", "active", 1)
    on_the_day = day_start_utc(day) + dt.timedelta(minutes=5)
    assert (await _run(ctx, "apply_due_terminations", on_the_day)).changed >= 1
    assert await state() == ("terminated", "disabled", 0), "disabled and every session revoked"
    assert (await _run(ctx, "apply_due_terminations", on_the_day)).changed == 0


# -- idempotency keys ---------------------------------------------------------------------------


async def test_expired_idempotency_keys_are_purged_and_fresh_ones_kept(api: Api) -> None:
    uid = await api.user_id(SP1)
    now = utcnow()
    tag = secrets.token_hex(4)
    async with api.db() as s:
        for key, expires in (("old", now - dt.timedelta(minutes=1)), ("fresh", now + dt.timedelta(hours=71))):
            s.add(
                IdempotencyRecord(
                    user_id=uid,
                    key=f"{key}-{tag}",
                    method="POST",
                    path="/x",
                    request_hash="0" * 64,
                    state="completed",
                    expires_at=expires,
                )
            )
        await s.commit()
    assert (await _run(ctx := api.ctx, "purge_idempotency_keys", now)).changed >= 1
    async with api.db() as s:
        left = set(await s.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.key.endswith(tag))))
    assert left == {f"fresh-{tag}"}
    assert (await _run(ctx, "purge_idempotency_keys", now)).changed == 0


# -- change log ---------------------------------------------------------------------------------


async def test_the_change_log_is_pruned_and_only_cursors_before_the_horizon_expire(api: Api) -> None:
    old_cursor = await sync(api, SP1, "customers", {})
    await new_customer(api, SP1, "JOB")
    recent: dict[int, Any] = {}
    recent_cursor = await sync(api, SP1, "customers", recent, since=old_cursor)
    async with api.db() as s:
        newest_seen = int(await s.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)) or 0)
        # Everything up to now is 31 days old; what follows is new.
        await s.execute(
            update(ChangeLog).where(ChangeLog.id <= newest_seen).values(at=utcnow() - dt.timedelta(days=31))
        )
        await s.commit()
    fresh = await new_customer(api, SP1, "JOB")

    now = utcnow()
    assert (await _run(api.ctx, "prune_change_log", now)).changed >= 1
    async with api.db() as s:
        oldest = await s.scalar(select(ChangeLog.id).order_by(ChangeLog.id).limit(1))
        assert oldest is not None and oldest > newest_seen, "the whole old prefix is gone"
    assert (await _run(api.ctx, "prune_change_log", now)).changed == 0

    r = await api.get(SP1, "/api/bff/mobile/sync/customers", since=old_cursor)
    assert r.status_code == 410 and r.json()["error_code"] == "SYNC_CURSOR_EXPIRED"
    # A cursor that had served everything up to the horizon missed nothing: it goes on.
    await sync(api, SP1, "customers", recent, since=recent_cursor)
    assert fresh in recent


async def test_pruning_keeps_the_newest_change_as_the_feeds_high_water_mark(api: Api) -> None:
    async with api.db() as s:
        newest = int(await s.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)) or 0)
    # Far in the future every change is past the retention, the newest one included.
    later = utcnow() + dt.timedelta(days=400)
    await _run(api.ctx, "prune_change_log", later, change_log_retention_days=30)
    async with api.db() as s:
        kept = list(await s.scalars(select(ChangeLog.id).where(ChangeLog.id <= newest)))
    assert kept == [newest]
    # A new snapshot still starts at it, and a cursor from there serves later changes.
    cursor = await sync(api, SP1, "customers", local := {})
    created = await new_customer(api, SP1, "JOB")
    await sync(api, SP1, "customers", local, since=cursor)
    assert created in local


# -- notifications ------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, _Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


async def _outbox(api: Api, tag: str) -> dict[str, int]:
    async with api.db() as s:
        ids = {}
        for recipient in (f"someone-{tag}@tsh.iq", f"nobody-{tag}@tsh.iq", f"+96477{tag[:8]}"):
            note = Notification(
                channel="sms" if recipient.startswith("+") else "email",
                recipient=recipient,
                template="account_reset",
                payload={"name": "Zainab", "link": f"https://tsh.iq/reset?token={tag}", "valid_hours": 24},
                status="pending",
            )
            s.add(note)
            await s.flush()
            ids[recipient.split("-")[0] if "-" in recipient else "sms"] = note.id
        await s.commit()
        return ids


async def _statuses(api: Api, ids: dict[str, int]) -> dict[str, str]:
    async with api.db() as s:
        rows = dict(
            (
                await s.execute(
                    select(Notification.id, Notification.status).where(Notification.id.in_(ids.values()))
                )
            ).all()
        )
    return {k: rows[v] for k, v in ids.items()}


async def test_without_smtp_the_outbox_stays_pending(api: Api) -> None:
    ids = await _outbox(api, secrets.token_hex(6))
    result = await _run(api.ctx, "send_notifications", utcnow(), smtp_url=None)
    assert result.changed == 0
    assert await _statuses(api, ids) == {"someone": "pending", "nobody": "pending", "sms": "pending"}


async def test_the_outbox_is_sent_over_smtp(api: Api, smtp_server: tuple[str, _Inbox]) -> None:
    url, inbox = smtp_server
    tag = secrets.token_hex(6)
    ids = await _outbox(api, tag)
    now = utcnow()
    assert (await _run(api.ctx, "send_notifications", now, smtp_url=url)).changed >= 2
    # A permanent refusal is `failed`, SMS has no provider here and waits.
    assert await _statuses(api, ids) == {"someone": "sent", "nobody": "failed", "sms": "pending"}
    mine = [body for to, body in inbox.messages if to == [f"someone-{tag}@tsh.iq"]]
    assert len(mine) == 1 and f"https://tsh.iq/reset?token={tag}" in mine[0]
    assert "Subject: Reset your TSH password" in mine[0]
    async with api.db() as s:
        sent = await s.get_one(Notification, ids["someone"])
        sms = await s.get_one(Notification, ids["sms"])
    assert sent.sent_at is not None and "link" not in sent.payload, "a delivered link is not kept"
    assert "link" in sms.payload
    count = len(inbox.messages)
    assert (await _run(api.ctx, "send_notifications", now, smtp_url=url)).changed == 0
    await asyncio.sleep(0)
    assert len(inbox.messages) == count, "nothing is sent twice"


async def test_an_unreachable_smtp_server_fails_the_run_and_keeps_the_outbox_pending(api: Api) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    ids = await _outbox(api, secrets.token_hex(6))
    job = job_named(
        api.ctx.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}), "send_notifications"
    )
    result = await run_job(job, db=api.ctx.db, bus=api.ctx.bus, now=utcnow())
    assert result.outcome == "failed" and "MailUnavailable" in (result.error or "")
    assert await _statuses(api, ids) == {"someone": "pending", "nobody": "pending", "sms": "pending"}
