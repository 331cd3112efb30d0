"""Admin-app demo data: disabled users with the ADM-06 entries that disabled them, permission
overrides (ADM-09), role changes (ADM-08, the role history of ADM-03), and the request log's
per-minute aggregates built from the week of seeded API requests (ADM-01/23/24).

No demo login (`<role>1`, `<role>2`) is touched: the extra salespeople and the Erbil staff are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import ApiRequestLog, Permission, Role, User
from tsh.domain.shared import business_today
from tsh.platform.requestlog import RequestLog
from tsh.seed.context import SeedContext


def _audit(ctx: SeedContext, *, at: dt.datetime, action: str, user_id: int, before: Any, after: Any) -> None:
    ctx.writer.add(
        "audit_logs",
        {
            "id": ctx.ids.next("audit_logs"),
            "at": at,
            "actor_id": ctx.refs["users"]["admin1"],
            "app": "admin",
            "action": action,
            "entity_type": "user",
            "entity_id": user_id,
            "decision": "allowed",
            "before": before,
            "after": after,
            "ip": "10.20.1.15",
            "request_id": f"seed-{action.lower()}-{user_id}",
            "created_at": at,
            "updated_at": at,
        },
    )


async def generate(ctx: SeedContext, session: AsyncSession) -> None:
    """Needs the users, the security seed's request rows and audit log already flushed."""
    now, users = ctx.now, ctx.refs["users"]
    extra = list(
        await session.scalars(
            select(User.id)
            .join(Role, Role.id == User.role_id)
            .where(
                Role.code == "salesperson", User.email.like("%@tsh.iq"), User.email.not_like("%@demo.tsh.iq")
            )
            .order_by(User.id)
        )
    )
    perms = dict((await session.execute(select(Permission.code, Permission.id))).tuples().all())

    # Two salespeople who left: disabled a few days ago, history kept.
    disabled = extra[-2:]
    await ctx.writer.update("users", [{"id": uid, "status": "disabled"} for uid in disabled])
    for k, uid in enumerate(disabled):
        at = now - dt.timedelta(days=2 + k, hours=3)
        reason = ("Resigned; handed over his customers", "Contract ended")[k % 2]
        _audit(
            ctx,
            at=at,
            action="ADM-06",
            user_id=uid,
            before={"status": "active"},
            after={"status": "disabled", "reason": reason},
        )

    # Overrides on top of the role: a denial pending an audit, a grant for a covering manager.
    overrides = []
    if len(extra) > 2:
        overrides.append(
            (extra[0], "salesperson.collect", "deny", "Collections on hold pending the cash audit")
        )
    overrides.append(
        (users["branch_manager_erb"], "accounting.ledger_reports", "grant", "Covers the Erbil books in Q4")
    )
    for uid, code, effect, reason in overrides:
        at = now - dt.timedelta(days=9)
        ctx.writer.add(
            "user_permission_overrides",
            {
                "id": ctx.ids.next("user_permission_overrides"),
                "user_id": uid,
                "permission_id": perms[code],
                "effect": effect,
                "reason": reason,
                "set_by_id": users["admin1"],
                "created_at": at,
                "updated_at": at,
            },
        )
        _audit(
            ctx,
            at=at,
            action="ADM-09",
            user_id=uid,
            before={"overrides": []},
            after={"overrides": [{"permission_code": code, "effect": effect}], "reason": reason},
        )

    # Role history: staff who were moved into the role they hold today.
    for key, earlier, current, days, reason in (
        ("cashier_bgd", "salesperson", "cashier", 75, "Moved from field sales to the Baghdad shop"),
        ("warehouse_staff_erb", "employee", "warehouse_staff", 140, "Joined the Erbil warehouse team"),
    ):
        _audit(
            ctx,
            at=now - dt.timedelta(days=days),
            action="ADM-08",
            user_id=users[key],
            before={"role": earlier},
            after={"role": current, "reason": reason},
        )

    await _request_rollups(ctx, session)


async def _request_rollups(ctx: SeedContext, session: AsyncSession) -> None:
    """Aggregate the seeded request rows the way a running server would have, minute by minute."""
    log = RequestLog()
    log.instance = "seed"
    rows = await session.execute(
        select(
            ApiRequestLog.at,
            ApiRequestLog.app,
            ApiRequestLog.route,
            ApiRequestLog.status,
            ApiRequestLog.latency_ms,
            ApiRequestLog.cached,
            ApiRequestLog.user_id,
        )
    )
    for at, app, route, status, latency, cached, user_id in rows:
        log.record(
            app=app or "legacy",
            route=route,
            status=status,
            latency_ms=latency,
            cached=cached,
            user_id=user_id,
            now=at,
        )
    seen: set[tuple[dt.date, str, str, int]] = set()
    for (minute, app, route, cls), t in log.take(everything=True).items():
        row: dict[str, Any] = {
            "id": ctx.ids.next("request_rollups"),
            "minute": minute,
            "instance": log.instance,
            "app": app,
            "route": route,
            "status_class": cls,
            "count": t.count,
            "cached": t.cached,
            "latency_sum_ms": t.latency_sum_ms,
        }
        row.update({f"b{i}": n for i, n in enumerate(t.buckets)})
        ctx.writer.add("request_rollups", row)
        for uid in t.users:
            key = (business_today(minute), app, route, uid)
            if key not in seen:
                seen.add(key)
                ctx.writer.add(
                    "request_user_days",
                    {
                        "id": ctx.ids.next("request_user_days"),
                        "day": key[0],
                        "app": app,
                        "route": route,
                        "user_id": uid,
                    },
                )
