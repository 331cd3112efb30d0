"""Security and operations history: login attempts, a brute-force burst with its lockout and threat,
blocked IP ranges (documentation ranges only, never loopback), security events, the admin activity
log and a week of API request logs for the usage screen. No demo account is locked or blocked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tsh.domain.apps import APPS
from tsh.seed.context import SeedContext

ROUTES = {
    "consumer": ["/api/bff/mobile/home", "/api/bff/mobile/products", "/api/bff/mobile/cart"],
    "salesperson": ["/api/bff/mobile/salesperson/dashboard", "/api/bff/mobile/salesperson/route"],
    "pos": ["/api/bff/mobile/pos/dashboard", "/api/bff/mobile/pos/products"],
    "admin": ["/api/bff/mobile/admin/dashboard", "/api/bff/mobile/admin/users"],
    "inventory": ["/api/bff/mobile/inventory/dashboard", "/api/bff/mobile/inventory/stock"],
    "accounting": ["/api/bff/mobile/accounting/dashboard", "/api/bff/mobile/accounting/journal-entries"],
    "hr": ["/api/bff/mobile/hr/me", "/api/bff/mobile/hr/attendance/today"],
    "security": ["/api/bff/mobile/security/dashboard", "/api/bff/mobile/security/login-attempts"],
    "partner": ["/api/bff/mobile/partner/dashboard", "/api/bff/mobile/partner/orders"],
    "wholesale": ["/api/bff/mobile/wholesale/dashboard", "/api/bff/mobile/wholesale/catalog"],
    "aso": ["/api/bff/mobile/aso/dashboard", "/api/bff/mobile/aso/service-requests"],
}
ACTIONS = (
    ("user.create", "user"),
    ("user.update", "user"),
    ("branch.update", "branch"),
    ("role.permissions.replace", "role"),
    ("warehouse.create", "warehouse"),
    ("cache.invalidate", None),
)


def generate(ctx: SeedContext) -> None:
    rng, w, now = ctx.rng, ctx.writer, ctx.now
    users: dict[str, int] = ctx.refs["users"]
    app_of = {
        "admin": "admin",
        "security_officer": "security",
        "accountant": "accounting",
        "hr_manager": "hr",
        "employee": "hr",
        "inventory_manager": "inventory",
        "warehouse_staff": "inventory",
        "salesperson": "salesperson",
        "cashier": "pos",
        "branch_manager": "salesperson",
        "partner": "partner",
        "wholesale_client": "wholesale",
        "technician": "aso",
        "service_agent": "aso",
        "consumer": "consumer",
    }
    logins = [(key, uid) for key, uid in users.items() if key[-1:] in ("1", "2")]
    n = 400 if ctx.profile.name == "demo" else 20_000
    for _ in range(n):
        key, uid = rng.choice(logins)
        role = key[:-1]
        at = now - dt.timedelta(minutes=rng.randint(30, 7 * 24 * 60))
        bad = rng.random() < 0.06
        w.add(
            "login_attempts",
            {
                "id": ctx.ids.next("login_attempts"),
                "at": at,
                "email": f"{key}@demo.tsh.iq",
                "user_id": uid,
                "ip": f"10.20.{uid % 250}.{rng.randint(2, 250)}",
                "app": app_of.get(role),
                "result": "bad_credentials" if bad else "success",
                "user_agent": rng.choice(["TSH/3.4.1 (Android 14)", "TSH/3.4.0 (iOS 17.5)"]),
                "created_at": at,
                "updated_at": at,
            },
        )
    # A brute-force burst against an address that is not a real account, from a documentation range.
    burst_ip, burst_at = "203.0.113.45", now - dt.timedelta(hours=5)
    for k in range(12):
        at = burst_at + dt.timedelta(seconds=20 * k)
        w.add(
            "login_attempts",
            {
                "id": ctx.ids.next("login_attempts"),
                "at": at,
                "email": "admin@tsh-iq.com",
                "user_id": None,
                "ip": burst_ip,
                "app": "admin",
                "result": "bad_credentials",
                "user_agent": "python-requests/2.32",
                "created_at": at,
                "updated_at": at,
            },
        )
    officer = users["security_officer1"]
    w.add(
        "lockouts",
        {
            "id": ctx.ids.next("lockouts"),
            "kind": "account",
            "user_id": None,
            "email": "admin@tsh-iq.com",
            "ip": None,
            "reason": "5 failed logins in 15 minutes",
            "failed_count": 12,
            "locked_at": burst_at + dt.timedelta(minutes=2),
            "until": now + dt.timedelta(hours=19),
            "lifted_by_id": None,
            "lifted_at": None,
        },
    )
    w.add(
        "lockouts",
        {
            "id": ctx.ids.next("lockouts"),
            "kind": "ip",
            "user_id": None,
            "email": None,
            "ip": "198.51.100.23",
            "reason": "Failures across 24 accounts",
            "failed_count": 31,
            "locked_at": now - dt.timedelta(days=3),
            "until": now - dt.timedelta(days=2),
            "lifted_by_id": None,
            "lifted_at": None,
        },
    )
    w.add(
        "blocked_ips",
        {
            "id": ctx.ids.next("blocked_ips"),
            "cidr": "203.0.113.0/24",
            "reason": "Credential stuffing source",
            "created_by_id": officer,
            "expires_at": now + dt.timedelta(days=30),
            "hits": 57,
            "lifted_at": None,
            "created_at": now - dt.timedelta(hours=4),
        },
    )
    w.add(
        "blocked_ips",
        {
            "id": ctx.ids.next("blocked_ips"),
            "cidr": "198.51.100.0/26",
            "reason": "Scanner",
            "created_by_id": officer,
            "expires_at": None,
            "hits": 12,
            "lifted_at": now - dt.timedelta(days=1),
            "lifted_by_id": officer,
            "lift_reason": "Provider confirmed the host was cleaned",
            "created_at": now - dt.timedelta(days=4),
        },
    )
    threats = [
        ("brute_force", "high", "open", None, [burst_ip], burst_at, 12, []),
        (
            "credential_stuffing",
            "critical",
            "investigating",
            officer,
            ["198.51.100.23"],
            now - dt.timedelta(days=3),
            31,
            [
                {
                    "by": officer,
                    "at": (now - dt.timedelta(days=3)).isoformat(),
                    "text": "Blocked the /26 range",
                }
            ],
        ),
        (
            "token_reuse",
            "medium",
            "resolved",
            officer,
            ["10.20.7.14"],
            now - dt.timedelta(days=9),
            2,
            [
                {
                    "by": officer,
                    "at": (now - dt.timedelta(days=9)).isoformat(),
                    "text": "App retry bug, sessions revoked",
                }
            ],
        ),
    ]
    for kind, severity, status, assignee, ips, first, count, notes in threats:
        tid = ctx.ids.next("threats")
        w.add(
            "threats",
            {
                "id": tid,
                "type": kind,
                "severity": severity,
                "status": status,
                "user_id": None,
                "ips": ips,
                "first_seen": first,
                "last_seen": first + dt.timedelta(minutes=4),
                "event_count": count,
                "assignee_id": assignee,
                "notes": notes,
                "resolution": "False alarm caused by an app retry bug" if status == "resolved" else None,
                "created_at": first,
                "updated_at": first,
            },
        )
        for k in range(min(count, 6)):
            at = first + dt.timedelta(seconds=30 * k)
            w.add(
                "security_events",
                {
                    "id": ctx.ids.next("security_events"),
                    "at": at,
                    "type": "login_failed",
                    "severity": severity,
                    "user_id": None,
                    "session_id": None,
                    "ip": ips[0],
                    "details": {"email": "admin@tsh-iq.com"},
                    "threat_id": tid,
                    "created_at": at,
                    "updated_at": at,
                },
            )
    _audit(ctx, users)
    _usage(ctx, users)
    _oversight(ctx, users)


def _audit(ctx: SeedContext, users: dict[str, int]) -> None:
    rng, w, now = ctx.rng, ctx.writer, ctx.now
    admin = users["admin1"]
    rows: list[dict[str, Any]] = []
    for k in range(60 if ctx.profile.name == "demo" else 2_000):
        action, entity = rng.choice(ACTIONS)
        at = now - dt.timedelta(hours=rng.randint(1, 24 * 30))
        denied = k % 15 == 7
        actor = (
            admin
            if not denied
            else rng.choice([users["cashier1"], users["salesperson2"], users["employee1"]])
        )
        rows.append(
            {
                "id": ctx.ids.next("audit_logs"),
                "at": at,
                "actor_id": actor,
                "app": "admin",
                "action": action if not denied else "access.denied",
                "entity_type": entity,
                "entity_id": rng.randint(1, 30) if entity else None,
                "decision": "denied" if denied else "allowed",
                "reason": "role may not use the function" if denied else None,
                "before": {"status": "active"} if action == "user.update" else None,
                "after": {"status": "active", "language": "ar"} if action == "user.update" else None,
                "ip": f"10.20.1.{rng.randint(2, 200)}",
                "request_id": f"req-{k:08d}",
                "created_at": at,
                "updated_at": at,
            }
        )
    w.add_many("audit_logs", rows)


def _usage(ctx: SeedContext, users: dict[str, int]) -> None:
    rng, w, now = ctx.rng, ctx.writer, ctx.now
    uids = list(users.values())
    rows = []
    for k in range(1_500 if ctx.profile.name == "demo" else 50_000):
        app = rng.choice(APPS)
        at = now - dt.timedelta(seconds=rng.randint(60, 7 * 24 * 3600))
        cached = rng.random() < 0.8
        status = 200 if rng.random() < 0.97 else rng.choice([404, 409, 422, 401])
        rows.append(
            {
                "id": ctx.ids.next("api_request_logs"),
                "at": at,
                "app": app,
                "method": "GET",
                "route": rng.choice(ROUTES[app]),
                "status": status,
                "latency_ms": round(rng.uniform(2, 9) if cached else rng.uniform(15, 120), 2),
                "cached": cached,
                "user_id": rng.choice(uids),
                "created_at": at,
                "updated_at": at,
            }
        )
        if k % 10_000 == 9_999:
            w.add_many("api_request_logs", rows)
            rows = []
    w.add_many("api_request_logs", rows)


# -- what the Security app watches: sessions, locked staff, threats of every type, app audit ----

DEVICES = (
    ("Samsung Galaxy A54", "android", "TSH/3.4.1 (Android 14)"),
    ("Xiaomi Redmi Note 12", "android", "TSH/3.4.1 (Android 13)"),
    ("iPhone 14", "ios", "TSH/3.4.0 (iOS 17.5)"),
    ("iPad (10th generation)", "ios", "TSH/3.4.0 (iPadOS 17.4)"),
)
# Non-demo staff accounts (seed/people.py), so no demo login is ever locked.
LOCKED_STAFF = (("cashier_bgd", "hiba.alkhafaji@tsh.iq", 7), ("technician_erb", "rebwar.talabani@tsh.iq", 5))


def _oversight(ctx: SeedContext, users: dict[str, int]) -> None:
    from tsh.domain.identity.rbac import PERMISSIONS

    rng, w, now = ctx.rng, ctx.writer, ctx.now
    officer = users["security_officer1"]
    app_of = {key: _app_of_role(_role_of(key)) for key in users}
    # Sessions: one or two devices per staff or customer account, some revoked or expired.
    for key, uid in users.items():
        for k in range(1 + uid % 2):
            device, platform, agent = DEVICES[(uid + k) % len(DEVICES)]
            started = now - dt.timedelta(hours=rng.randint(1, 24 * 12))
            # Seen within the idle timeout (policy: 7 days), so every live one can still refresh.
            seen = max(started, now - dt.timedelta(minutes=rng.randint(1, 2880)))
            revoked = started + dt.timedelta(hours=2) if k == 1 and uid % 3 == 0 else None
            w.add(
                "sessions",
                {
                    "id": ctx.ids.next("sessions"),
                    "user_id": uid,
                    "app": app_of[key],
                    "device_id": f"dev-{uid:05d}-{k}",
                    "device_name": device,
                    "ip": f"10.20.{uid % 250}.{10 + k}",
                    "user_agent": agent,
                    "push_token": None,
                    "platform": platform,
                    # Random, never issued: nobody can refresh a seeded session.
                    "refresh_token_hash": f"{rng.getrandbits(256):064x}",
                    "refresh_generation": rng.randint(1, 40),
                    "last_seen_at": seen,
                    "expires_at": seen + dt.timedelta(days=30),
                    "revoked_at": revoked,
                    "revoke_reason": "logout" if revoked else None,
                    "created_at": started,
                    "updated_at": revoked or seen,
                },
            )
    # Two staff accounts locked after failed logins from the branch network.
    for key, email, failures in LOCKED_STAFF:
        uid = users[key]
        locked = now - dt.timedelta(minutes=rng.randint(3, 9))
        for k in range(failures):
            at = locked - dt.timedelta(seconds=40 * (failures - k))
            w.add(
                "login_attempts",
                {
                    "id": ctx.ids.next("login_attempts"),
                    "at": at,
                    "email": email,
                    "user_id": uid,
                    "ip": f"10.20.{uid % 250}.77",
                    "app": app_of[key],
                    "result": "bad_credentials",
                    "user_agent": DEVICES[0][2],
                    "created_at": at,
                    "updated_at": at,
                },
            )
        w.add(
            "lockouts",
            {
                "id": ctx.ids.next("lockouts"),
                "kind": "account",
                "user_id": uid,
                "email": email,
                "ip": None,
                # Held past the policy's 15 minutes until the officer has talked to the user.
                "reason": "too many failed logins; held for review",
                "failed_count": failures,
                "locked_at": locked,
                "until": locked + dt.timedelta(hours=24),
                "lifted_by_id": None,
                "lifted_at": None,
                "created_at": locked,
                "updated_at": locked,
            },
        )
    # Threats with an affected user, one of each type, each with the security events behind it.
    threats: tuple[tuple[str, str, str, int | None, int | None, str, int, float], ...] = (
        ("brute_force", "medium", "open", None, users["cashier_bgd"], "login_failed", 10, 0.2),
        ("token_reuse", "high", "investigating", officer, users["salesperson2"], "refresh_reuse", 2, 30),
        ("impossible_travel", "medium", "false_positive", officer, users["partner1"], "login_success", 2, 80),
        ("privilege_probe", "medium", "open", None, users["employee2"], "access_denied", 12, 3),
        ("mass_export", "high", "resolved", users["admin1"], users["accountant2"], "mass_export", 3, 120),
        ("credential_stuffing", "critical", "resolved", officer, None, "login_failed", 40, 200),
    )
    for kind, severity, status, assignee, affected, event_type, count, hours_ago in threats:
        tid = ctx.ids.next("threats")
        first = now - dt.timedelta(hours=hours_ago)
        ip = f"192.0.2.{(tid * 7) % 250 + 1}"
        notes = (
            [{"by": assignee, "at": (first + dt.timedelta(hours=1)).isoformat(), "text": "Looking into it"}]
            if assignee
            else []
        )
        w.add(
            "threats",
            {
                "id": tid,
                "type": kind,
                "severity": severity,
                "status": status,
                "user_id": affected,
                "ips": [ip] if kind != "impossible_travel" else [ip, "198.51.100.77"],
                "first_seen": first,
                "last_seen": first + dt.timedelta(minutes=count),
                "event_count": count,
                "assignee_id": assignee,
                "notes": notes,
                "resolution": "Confirmed with the user and closed" if status == "resolved" else None,
                "created_at": first,
                "updated_at": first,
            },
        )
        for k in range(min(count, 8)):
            at = first + dt.timedelta(minutes=k)
            w.add(
                "security_events",
                {
                    "id": ctx.ids.next("security_events"),
                    "at": at,
                    "type": event_type,
                    "severity": severity,
                    "user_id": affected,
                    "session_id": None,
                    "ip": ip,
                    "details": {"detector": kind, "sequence": k + 1},
                    "threat_id": tid,
                    "created_at": at,
                    "updated_at": at,
                },
            )
    # Audit rows from every app: allowed actions by holders of the permission, and denials by role
    # (a role without it) and by scope (a holder reaching a record outside its scope).
    holders: dict[str, list[int]] = {}
    for key, uid in users.items():
        holders.setdefault(_role_of(key), []).append(uid)
    roles = sorted(holders)
    rows: list[dict[str, Any]] = []
    per_app = 12 if ctx.profile.name == "demo" else 200
    by_module: dict[str, list[Any]] = {}
    for perm in PERMISSIONS:
        by_module.setdefault(perm.module, []).append(perm)
    for module, perms in by_module.items():
        for k in range(per_app):
            perm = rng.choice(perms)
            endpoint = rng.choice(perm.endpoints)
            allowed_roles = sorted(r for r in perm.roles if r in holders) or ["admin"]
            outsiders = [r for r in roles if r not in perm.roles and r != "admin"]
            decision, reason = "allowed", None
            role = rng.choice(allowed_roles)
            if k % 4 == 3 and outsiders:
                decision, reason, role = "denied", "role", rng.choice(outsiders)
            elif k % 6 == 5:
                decision, reason = "denied", "scope"
            at = now - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 20))
            rows.append(
                {
                    "id": ctx.ids.next("audit_logs"),
                    "at": at,
                    "actor_id": rng.choice(holders.get(role, [users["admin1"]])),
                    "app": module,
                    "action": endpoint,
                    "entity_type": None,
                    "entity_id": rng.randint(1, 400) if decision == "denied" and reason == "scope" else None,
                    "decision": decision,
                    "reason": reason,
                    "before": None,
                    "after": None,
                    "ip": f"10.20.{rng.randint(1, 249)}.{rng.randint(2, 250)}",
                    "request_id": f"req-{module[:3]}-{k:06d}",
                    "created_at": at,
                    "updated_at": at,
                }
            )
    # The probe behind the privilege_probe threat above: recent denials of one user.
    for k in range(12):
        at = now - dt.timedelta(hours=3) + dt.timedelta(seconds=30 * k)
        rows.append(
            {
                "id": ctx.ids.next("audit_logs"),
                "at": at,
                "actor_id": users["employee2"],
                "app": "accounting",
                "action": rng.choice(("ACC-01", "ACC-08", "ACC-16")),
                "entity_type": None,
                "entity_id": None,
                "decision": "denied",
                "reason": "role",
                "before": None,
                "after": None,
                "ip": "10.20.5.61",
                "request_id": f"req-probe-{k:04d}",
                "created_at": at,
                "updated_at": at,
            }
        )
    w.add_many("audit_logs", rows)


def _role_of(user_key: str) -> str:
    """`cashier1` and `cashier_bgd` (seed/people.py user keys) → `cashier`."""
    role = user_key.rstrip("0123456789")
    return role.rsplit("_", 1)[0] if role.endswith(("_bgd", "_bsr", "_erb")) else role


def _app_of_role(role: str) -> str:
    return {
        "admin": "admin",
        "security_officer": "security",
        "accountant": "accounting",
        "hr_manager": "hr",
        "employee": "hr",
        "inventory_manager": "inventory",
        "warehouse_staff": "inventory",
        "salesperson": "salesperson",
        "cashier": "pos",
        "branch_manager": "salesperson",
        "partner": "partner",
        "wholesale_client": "wholesale",
        "technician": "aso",
        "service_agent": "aso",
        "consumer": "consumer",
    }.get(role, "consumer")
