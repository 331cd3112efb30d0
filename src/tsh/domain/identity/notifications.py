"""Delivering the notification outbox (clarifications.md, "Notifications"): the sender job.

E-mail rows go out over SMTP when TSH_SMTP_URL is set; without it, and for SMS (no provider is
reachable from these machines), rows stay `pending` and the admin passes the link on by hand.
Rows are taken oldest first with FOR UPDATE SKIP LOCKED, so two senders never send one row
twice at the same time. A row is marked `sent` in the transaction that sent it: if that commit
fails after the server accepted the mail, the mail goes out again on the next run (at least
once, never silently lost). A permanent refusal (5xx) marks the row `failed`; a lost connection
or a 4xx stops the batch: what was sent stays sent, the rest pending for the next run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import Notification
from tsh.platform.mail import MailUnavailable, Rejected, SmtpSender

BATCH = 100

_SUBJECTS = {
    "account_setup": "Set up your TSH account",
    "account_reset": "Reset your TSH password",
}


def render(template: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, plain-text body) of an outbox row."""
    name = payload.get("name") or "there"
    if template in _SUBJECTS and payload.get("link"):
        hours = payload.get("valid_hours", 24)
        body = (
            f"Hello {name},\n\n{_SUBJECTS[template]}: open this link within {hours} hours.\n\n"
            f"{payload['link']}\n\nIf you did not expect this message, tell your administrator.\n"
        )
        return _SUBJECTS[template], body
    lines = "\n".join(f"{k}: {v}" for k, v in sorted(payload.items()))
    return template.replace("_", " ").capitalize(), f"Hello {name},\n\n{lines}\n"


async def send_pending_notifications(
    session: AsyncSession, *, now: datetime, sender: SmtpSender | None, limit: int = BATCH
) -> int:
    """Send up to `limit` pending e-mail rows; returns how many were sent or failed for good.

    Without a sender nothing is touched (the rows stay pending)."""
    if sender is None:
        return 0
    rows = list(
        await session.scalars(
            select(Notification)
            .where(Notification.status == "pending", Notification.channel == "email")
            .order_by(Notification.created_at, Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return 0
    done = 0
    try:
        async with sender.connect() as send:
            for note in rows:
                subject, body = render(note.template, note.payload)
                try:
                    await send(note.recipient, subject, body)
                except Rejected:
                    note.status = "failed"
                else:
                    note.status, note.sent_at = "sent", now
                # The link carries a live token; once delivered (or undeliverable) it is not kept.
                note.payload = {k: v for k, v in note.payload.items() if k != "link"}
                done += 1
    except MailUnavailable:
        if not done:
            raise  # nothing went out: the run is a failure (metrics), the rows stay pending
        # Keep what was sent; the rest waits for the next run.
    await session.flush()
    return done
