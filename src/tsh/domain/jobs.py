"""Every scheduled job of the ERP, in one list (clarifications.md, "Scheduled jobs").

Each job is a domain function that takes the session and `now`, changes only what is due at
`now` and never commits; tsh.platform.scheduler.run_job runs it as one transaction under the job's
lock and publishes the events it raised. All are idempotent: a second run at the same `now`
changes nothing. Times are UTC unless the rule is about a business day (Asia/Baghdad).

Not scheduled, because nothing needs rewriting as time passes:
- threat detector windows, IP blocks and lockouts: windows are counted at the failed login or
  denial itself, and blocks and lockouts end by comparing `until`/`expires_at` with the clock;
- request-log rollups: each server process writes its own finished minutes (tsh.main); that
  buffer is per process, so no other runner can do it; no retention is specified for them;
- planned visits past their day: shown `skipped` when read (tsh.domain.sales.visits), a status
  derived from the date; rewriting rows would only raise VisitRecorded with no visible change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.hr.hiring import apply_due_terminations
from tsh.domain.identity.notifications import send_pending_notifications
from tsh.domain.sales.checkout import expire_unpaid_online_orders
from tsh.domain.sales.daily_sales import HORIZON_DAYS, roll_up_product_sales
from tsh.domain.shared import business_today
from tsh.domain.sync.retention import prune_change_log
from tsh.platform.idempotency import purge_expired_records
from tsh.platform.mail import SmtpSender
from tsh.platform.scheduler import Job

BUSINESS_TZ = "Asia/Baghdad"


def catalogue(settings: Settings) -> list[Job]:
    sender = SmtpSender.from_url(settings.smtp_url, sender=settings.smtp_from) if settings.smtp_url else None

    async def expire_orders(session: AsyncSession, now: datetime) -> int:
        return await expire_unpaid_online_orders(session, now=now)

    async def terminations(session: AsyncSession, now: datetime) -> int:
        return len(await apply_due_terminations(session, today=business_today(now)))

    async def idempotency(session: AsyncSession, now: datetime) -> int:
        return await purge_expired_records(session, now=now)

    async def change_log(session: AsyncSession, now: datetime) -> int:
        return await prune_change_log(session, now=now, keep_days=settings.change_log_retention_days)

    async def notifications(session: AsyncSession, now: datetime) -> int:
        return await send_pending_notifications(session, now=now, sender=sender)

    async def product_sales(session: AsyncSession, now: datetime) -> int:
        return await roll_up_product_sales(session, now=now)

    return [
        Job(
            "expire_unpaid_online_orders",
            "* * * * *",
            expire_orders,
            "cancel online orders unpaid 30 minutes after placing; their stock is released",
        ),
        Job(
            "apply_due_terminations",
            "5 0 * * *",
            terminations,
            "terminate employees whose termination date has come; disable their users",
            timezone=BUSINESS_TZ,
        ),
        Job(
            "purge_idempotency_keys",
            "17 * * * *",
            idempotency,
            "delete Idempotency-Key records past their 72 hours",
        ),
        Job(
            "prune_change_log",
            "30 3 * * *",
            change_log,
            f"delete sync changes older than {settings.change_log_retention_days} days (keeps the newest)",
            timezone=BUSINESS_TZ,
        ),
        Job(
            "send_notifications",
            "* * * * *",
            notifications,
            "e-mail pending outbox rows over SMTP"
            + ("" if sender else " (TSH_SMTP_URL unset: rows stay pending)"),
        ),
        Job(
            "roll_up_product_sales",
            "10 0 * * *",
            product_sales,
            f"rewrite product sales per day of the last {HORIZON_DAYS} days from the order lines",
            timezone=BUSINESS_TZ,
        ),
    ]


def job_named(settings: Settings, name: str) -> Job:
    for job in catalogue(settings):
        if job.name == name:
            return job
    raise KeyError(name)
