"""A field day for Locust: salespeople on their route and cashiers at the till (bench/README.md).

Salespeople (every active user with the role `salesperson`, found through the legacy API as
admin) load the dashboard, customers, customer 360, route and orders; on a visit they check in
(SAL-07), open the order catalogue (SAL-09), take an order (SAL-10, Idempotency-Key, expected
total computed from the SAL-09 prices, repriced once from a 409 PRICE_CHANGED's details),
collect on an open invoice (SAL-12 → SAL-13) and check out (SAL-08). Cashiers (role `cashier`)
reuse their open shift or open one (POS-03), sell (POS-09 start, POS-11 lines from in-stock
POS-02 products, POS-12 cash payment of the total) and sometimes refund (POS-14).

Each simulated user logs in once in on_start; simulated users that share an account share its
token (logins are deliberately slow and rate limited). Expected business conflicts are counted
as handled outcomes, not failures, and requests are named by route template.

    .venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 10 --tsh-measure 60 \\
        --host http://127.0.0.1:8000 [--tsh-wait 0.5,2] [--tsh-report var/bench/locust/u50.json]

or the whole stepped run against a fresh 2-worker server (PostgreSQL + Redis):

    .venv/bin/python -m bench.locustfile [--users 20,50,100] [--duration 60]
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import random
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

import gevent.lock
from locust import FastHttpUser, between, events, task

PASSWORD = "demo1234"
ADMIN = "admin1@demo.tsh.iq"
SP = "/api/bff/mobile/salesperson"
POS = "/api/bff/mobile/pos"
FIRST_SALESPEOPLE = ["salesperson1@demo.tsh.iq", "salesperson2@demo.tsh.iq"]
FIRST_CASHIERS = ["cashier1@demo.tsh.iq", "cashier2@demo.tsh.iq"]
OPENING_FLOAT = [{"amount": "250000", "currency": "IQD"}, {"amount": "100", "currency": "USD"}]

# Business outcomes a real app meets and handles; they count as successes, tallied by code.
HANDLED: Counter[str] = Counter()
_HANDLED_LOCK = gevent.lock.Semaphore()


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--tsh-wait", default="0.5,2", help="think time between tasks, min,max seconds")
    parser.add_argument("--tsh-password", default=PASSWORD, help="password of the demo users")
    parser.add_argument("--tsh-report", default="", help="write handled outcomes and cache hits here")
    parser.add_argument(
        "--tsh-measure",
        type=float,
        default=0,
        help="once every user is set up, reset the stats, measure this many seconds and stop (0: off)",
    )


def _wait(user: FastHttpUser) -> float:
    low, high = (float(x) for x in user.environment.parsed_options.tsh_wait.split(","))
    return float(between(low, high)(user))


# --- shared roster and tokens ------------------------------------------------------------------


class Roster:
    """Users and terminals, discovered once per process as admin; tokens, one per account."""

    def __init__(self) -> None:
        self.lock = gevent.lock.Semaphore()
        self.loaded = False
        self.salespeople: list[str] = []
        self.cashiers: list[str] = []
        self.branch_of: dict[str, int | None] = {}
        self.terminals: dict[int, list[int]] = {}
        self.tokens: dict[str, str] = {}
        self.account_locks: dict[str, gevent.lock.Semaphore] = {}
        self.open_visits: set[int] = set()  # visits opened by live simulated users
        self._sp_turn: Iterator[int] = itertools.count()
        self._cashier_turn: Iterator[int] = itertools.count()

    def account_lock(self, email: str) -> gevent.lock.Semaphore:
        return self.account_locks.setdefault(email, gevent.lock.Semaphore())

    def load(self, user: TshUser) -> None:
        with self.lock:
            if self.loaded:
                return
            token = user.login(ADMIN)
            users = user.get_json("/api/users?limit=500", "/api/users", token)
            # The legacy list is a bare JSON array of users with their role object.
            active = [u for u in users if u.get("status") == "active"]
            by_role = {
                code: sorted(u["email"] for u in active if u["role"]["code"] == code)
                for code in ("salesperson", "cashier")
            }
            self.salespeople = _first(FIRST_SALESPEOPLE, by_role["salesperson"])
            self.cashiers = _first(FIRST_CASHIERS, by_role["cashier"])
            self.branch_of = {u["email"]: u.get("branch_id") for u in active}
            for t in user.get_json("/api/pos-terminals?limit=500", "/api/pos-terminals", token):
                if t.get("status", "active") == "active":
                    self.terminals.setdefault(t["branch_id"], []).append(t["id"])
            self.loaded = True

    def next_salesperson(self) -> str:
        return self.salespeople[next(self._sp_turn) % len(self.salespeople)]

    def next_cashier(self) -> str:
        return self.cashiers[next(self._cashier_turn) % len(self.cashiers)]


def _first(first: list[str], found: list[str]) -> list[str]:
    return [e for e in first if e in found] + [e for e in found if e not in first]


ROSTER = Roster()


def _handled(name: str, code: str) -> None:
    with _HANDLED_LOCK:
        HANDLED[f"{name} {code}"] += 1


def _code(body: Any) -> str:
    return str(body.get("error_code") or "") if isinstance(body, dict) else ""


def _detail(body: Any, key: str) -> Any:
    for d in (body or {}).get("details") or []:
        if isinstance(d, dict) and key in d:
            return d[key]
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    places = Decimal(1) if currency == "IQD" else Decimal("0.01")
    return {"amount": str(amount.quantize(places, rounding=ROUND_DOWN)), "currency": currency}


def _qs(**params: Any) -> str:
    return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


# --- the common user ---------------------------------------------------------------------------


class TshUser(FastHttpUser):
    abstract = True
    wait_time = _wait
    email = ""

    def login(self, email: str) -> str:
        """Log in (or reuse the account's token); one login per account per process."""
        with ROSTER.account_lock(email):
            password = self.environment.parsed_options.tsh_password
            for _attempt in range(10):
                if email in ROSTER.tokens:
                    break
                with self.client.post(
                    "/api/auth/login",
                    json={"email": email, "password": password},
                    name="/api/auth/login",
                    catch_response=True,
                ) as r:
                    if r.status_code == 200:
                        ROSTER.tokens[email] = r.json()["data"]["access_token"]
                        break
                    if r.status_code != 429:
                        r.failure(f"login {email}: {r.status_code} {r.text[:200]}")
                        raise RuntimeError(f"login {email} failed: {r.status_code}")
                    # Login rate limit (20/minute per IP by default): wait as told and try again.
                    _handled("POST /api/auth/login", "RATE_LIMITED")
                    r.success()
                    retry_after = float(r.headers.get("Retry-After") or 5)
                gevent.sleep(min(max(retry_after, 1.0), 60.0))
            else:
                raise RuntimeError(f"login {email}: still rate limited")
            return ROSTER.tokens[email]

    def get_json(self, path: str, name: str, token: str) -> Any:
        with self.client.get(
            path, name=name, headers={"Authorization": f"Bearer {token}"}, catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} {r.text[:200]}")
                raise RuntimeError(f"GET {path}: {r.status_code}")
            body = r.json()
            return body["data"] if isinstance(body, dict) and "data" in body else body

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        body: Any = None,
        idempotency_key: str | None = None,
        ok: Iterable[int] = (200, 201),
        handled: Iterable[str] = (),
    ) -> tuple[int, Any]:
        """One request with the account's token; (status, envelope). Handled codes are successes."""
        token = ROSTER.tokens[self.email]
        headers = {"Authorization": f"Bearer {token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        with self.client.request(
            method, path, name=name, headers=headers, json=body, catch_response=True
        ) as r:
            try:
                payload = r.json() if r.text else None
            except ValueError:
                payload = None
            code = _code(payload)
            if r.status_code in ok:
                r.success()
            elif code and code in handled:
                _handled(f"{method} {name}", code)
                r.success()
            else:
                r.failure(f"{r.status_code} {code or r.text[:200]}")
        if r.status_code == 401:  # expired token: log the account in again for the next call
            with ROSTER.account_lock(self.email):
                if ROSTER.tokens.get(self.email) == token:
                    del ROSTER.tokens[self.email]
            self.login(self.email)
        return r.status_code, payload

    def on_start(self) -> None:
        try:
            ROSTER.load(self)
            self.setup()
        finally:
            _user_ready(self.environment)

    def setup(self) -> None:
        """Per-role set-up after the roster is known (log in, first screens)."""


# --- salespeople ---------------------------------------------------------------------------------


class Salesperson(TshUser):
    weight = 4

    def setup(self) -> None:
        self.email = ROSTER.next_salesperson()
        self.login(self.email)
        self.customers: list[dict[str, Any]] = []
        self.stops: list[dict[str, Any]] = []
        self.load_customers()
        self.load_route()

    def load_customers(self) -> None:
        sort = random.choice(["name", "last_visit", "balance"])
        status, body = self.call("GET", f"{SP}/customers?{_qs(limit=50, sort=sort)}", f"{SP}/customers")
        if status == 200:
            self.customers = [c for c in body["data"]["items"] if not c.get("on_hold")]

    def load_route(self) -> None:
        status, body = self.call("GET", f"{SP}/route", f"{SP}/route")
        if status == 200:
            self.stops = body["data"]["stops"]

    @task(4)
    def dashboard(self) -> None:
        date_range = random.choices(["today", "week", "month"], weights=[6, 2, 2])[0]
        self.call("GET", f"{SP}/dashboard?{_qs(date_range=date_range)}", f"{SP}/dashboard")

    @task(3)
    def customers_screen(self) -> None:
        self.load_customers()

    @task(2)
    def customer_360(self) -> None:
        if self.customers:
            customer = random.choice(self.customers)
            self.call("GET", f"{SP}/customers/{customer['id']}", f"{SP}/customers/{{id}}")

    @task(2)
    def route_screen(self) -> None:
        self.load_route()

    @task(1)
    def orders_screen(self) -> None:
        self.call("GET", f"{SP}/orders?{_qs(limit=20)}", f"{SP}/orders")

    @task(1)
    def visit(self) -> None:
        """Check in at a customer, take an order, collect on an open invoice, check out."""
        if not self.customers:
            return
        planned = [s for s in self.stops if s.get("status") == "planned"]
        if planned and random.random() < 0.6:
            stop = random.choice(planned)
            customer_id, geo = stop["customer"]["id"], stop.get("geo")
        else:
            customer = random.choice(self.customers)
            customer_id, geo = customer["id"], customer.get("geo")
        fix = {
            "lat": (geo or {}).get("lat", 33.31) + random.uniform(-0.0003, 0.0003),
            "lng": (geo or {}).get("lng", 44.36) + random.uniform(-0.0003, 0.0003),
            "accuracy_m": random.choice([5, 10, 25]),
        }
        visit_id = self.check_in(customer_id, fix)
        outcome = "no_order"
        try:
            self.call("GET", f"{SP}/customers/{customer_id}", f"{SP}/customers/{{id}}")
            if random.random() < 0.7 and self.take_order(customer_id, visit_id):
                outcome = "order_taken"
            if random.random() < 0.5 and self.collect(customer_id, visit_id) and outcome == "no_order":
                outcome = "payment_collected"
        finally:
            if visit_id is not None:
                self.check_out(visit_id, fix, outcome)

    def check_in(self, customer_id: int, fix: dict[str, Any]) -> int | None:
        name = f"{SP}/visits"
        status, body = self.call(
            "POST",
            name,
            name,
            body={"customer_id": customer_id, "geo": fix, "device_time": _now()},
            ok=(201,),
            handled=("VISIT_IN_PROGRESS",),
        )
        if status == 201:
            visit_id = int(body["data"]["id"])
            ROSTER.open_visits.add(visit_id)
            return visit_id
        leftover = _detail(body, "visit_id")
        if status == 409 and leftover is not None and leftover not in ROSTER.open_visits:
            # Left open by an earlier, interrupted run: end it so the account can visit again.
            ROSTER.open_visits.add(leftover)
            self.check_out(leftover, fix, "no_order")
        return None

    def check_out(self, visit_id: int, fix: dict[str, Any], outcome: str) -> None:
        try:
            self.call(
                "POST",
                f"{SP}/visits/{visit_id}/check-out",
                f"{SP}/visits/{{id}}/check-out",
                body={"geo": fix, "device_time": _now(), "outcome": outcome},
                handled=("VISIT_NOT_OPEN",),
            )
        finally:
            ROSTER.open_visits.discard(visit_id)

    def take_order(self, customer_id: int, visit_id: int | None) -> bool:
        status, body = self.call(
            "GET",
            f"{SP}/products?{_qs(customer_id=customer_id, in_stock='true', limit=30)}",
            f"{SP}/products",
        )
        if status != 200:
            return False
        items = [p for p in body["data"]["items"] if p.get("available", 0) > 0 and p.get("unit_price")]
        if not items:
            return False
        currency = body["data"]["customer"]["currency"]
        lines, total = [], Decimal(0)
        for product in random.sample(items, k=min(len(items), random.randint(1, 3))):
            qty = random.randint(1, min(2, product["available"]))
            price = product.get("promo_price_incl_tax") or product["price_incl_tax"]
            total += Decimal(price["amount"]) * qty
            lines.append({"product_id": product["id"], "qty": qty})
        order: dict[str, Any] = {
            "customer_id": customer_id,
            "lines": lines,
            "payment_terms": random.choices(["cash", "credit"], weights=[3, 1])[0],
            "expected_total": {"amount": str(total), "currency": currency},
        }
        if visit_id is not None:
            order["visit_id"] = visit_id
        name = f"{SP}/orders"
        conflicts = ("PRICE_CHANGED", "INSUFFICIENT_STOCK", "CREDIT_LIMIT_EXCEEDED", "CUSTOMER_ON_HOLD")
        key = str(uuid.uuid4())
        status, body = self.call("POST", name, name, body=order, idempotency_key=key, handled=conflicts)
        if status == 409 and _code(body) == "PRICE_CHANGED":
            # The server priced it differently (promotion, rounding): confirm at its total.
            order["expected_total"] = {"amount": _detail(body, "actual"), "currency": currency}
            key = str(uuid.uuid4())
            status, body = self.call("POST", name, name, body=order, idempotency_key=key, handled=conflicts)
        if status == 201 and random.random() < 0.05:
            # An offline replay of the same request: the first result comes back.
            first = body["data"]["id"]
            status, again = self.call("POST", name, name, body=order, idempotency_key=key)
            if status == 201 and again["data"]["id"] != first:
                events.request.fire(
                    request_type="POST",
                    name=f"{name} (replay)",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError(f"replay answered order {again['data']['id']} not {first}"),
                )
        return status == 201

    def collect(self, customer_id: int, visit_id: int | None) -> bool:
        status, body = self.call(
            "GET", f"{SP}/collections?{_qs(customer_id=customer_id, limit=20)}", f"{SP}/collections"
        )
        if status != 200:
            return False
        invoices = [i for i in body["data"]["items"] if Decimal(i["balance"]["amount"]) > 0]
        if not invoices:
            return False
        invoice = invoices[0]  # overdue first
        balance, currency = Decimal(invoice["balance"]["amount"]), invoice["balance"]["currency"]
        part = balance if random.random() < 0.3 else balance * Decimal(random.choice([10, 25, 50])) / 100
        amount = _money(max(part, Decimal(1)), currency)
        method = random.choices(["cash", "zain_cash", "cheque"], weights=[6, 2, 1])[0]
        payment: dict[str, Any] = {
            "customer_id": customer_id,
            "amount": amount,
            "method": method,
            "allocations": [{"invoice_id": invoice["id"], "amount": amount}],
            "device_time": _now(),
        }
        if method != "cash":
            payment["reference"] = f"LT-{uuid.uuid4().hex[:12]}"
        if visit_id is not None:
            payment["visit_id"] = visit_id
        name = f"{SP}/collections"
        status, _ = self.call(
            "POST", name, name, body=payment, idempotency_key=str(uuid.uuid4()), handled=("OVER_ALLOCATION",)
        )
        return status == 201


# --- cashiers ------------------------------------------------------------------------------------


class Cashier(TshUser):
    weight = 1

    def setup(self) -> None:
        self.email = ROSTER.next_cashier()
        self.login(self.email)
        self.terminal_id: int | None = None
        self.sale_id: int | None = None
        self.categories: list[int] = []
        self.sellable_tiles: set[int] = set()
        self.ensure_shift()

    def on_stop(self) -> None:
        if self.sale_id is not None:  # do not leave a parked sale behind
            self.discard(self.sale_id)

    def ensure_shift(self) -> None:
        """Reuse the account's open shift or open one on a free terminal of its branch."""
        with ROSTER.account_lock(self.email):
            if self.current_shift():
                return
            branch = ROSTER.branch_of.get(self.email)
            for terminal_id in ROSTER.terminals.get(branch or 0, []):
                status, body = self.call(
                    "POST",
                    f"{POS}/shifts",
                    f"{POS}/shifts",
                    body={"terminal_id": terminal_id, "opening_float": OPENING_FLOAT},
                    idempotency_key=str(uuid.uuid4()),
                    ok=(201,),
                    handled=("SHIFT_ALREADY_OPEN",),
                )
                if status == 201:
                    self.terminal_id = int(body["data"]["terminal"]["id"])
                    return
                if self.current_shift():
                    return

    def current_shift(self) -> bool:
        status, body = self.call(
            "GET", f"{POS}/shifts/current", f"{POS}/shifts/current", ok=(200,), handled=("NO_OPEN_SHIFT",)
        )
        if status == 200:
            self.terminal_id = int(body["data"]["terminal"]["id"])
            return True
        return False

    def products(self, category: int | None = None) -> list[dict[str, Any]]:
        if self.terminal_id is None:
            return []
        status, body = self.call(
            "GET",
            f"{POS}/products?{_qs(terminal_id=self.terminal_id, limit=50, category_id=category)}",
            f"{POS}/products",
        )
        if status != 200:
            return []
        self.categories = [c["id"] for c in body["data"].get("categories", [])]
        return list(body["data"]["items"])

    def sellable(self) -> list[dict[str, Any]]:
        """In-stock, priced, non-serialised products of a category tile (the first page of the
        whole catalogue may hold none); tiles that had some are tried again first."""
        known = sorted(self.sellable_tiles)
        if known and random.random() < 0.8:
            category: int | None = random.choice(known)
        else:
            category = random.choice(self.categories) if self.categories else None
        items = [
            p
            for p in self.products(category)
            if p.get("available", 0) > 0 and p.get("price") and not p.get("is_serialised")
        ]
        if category is not None:
            (self.sellable_tiles.add if items else self.sellable_tiles.discard)(category)
        return items

    @task(3)
    def dashboard(self) -> None:
        self.call("GET", f"{POS}/dashboard", f"{POS}/dashboard")

    @task(2)
    def browse(self) -> None:
        tile = random.choice(self.categories) if self.categories and random.random() < 0.5 else None
        self.products(tile)

    @task(1)
    def sales_list(self) -> None:
        self.call("GET", f"{POS}/transactions?{_qs(limit=20)}", f"{POS}/transactions")

    @task(1)
    def drawer(self) -> None:
        self.call("GET", f"{POS}/cash-drawer", f"{POS}/cash-drawer", handled=("NO_OPEN_SHIFT",))

    @task(6)
    def sell(self) -> None:
        """Start a sale, put in-stock products on it, take cash for the total, maybe refund."""
        if self.terminal_id is None:
            self.ensure_shift()
            return
        items = self.sellable()
        if not items:
            return
        name = f"{POS}/transactions"
        status, body = self.call(
            "POST", name, name, body={}, ok=(201,), handled=("TOO_MANY_OPEN", "NO_OPEN_SHIFT")
        )
        if status != 201:
            if _code(body) == "NO_OPEN_SHIFT":
                self.terminal_id = None
            return
        sale_id = self.sale_id = int(body["data"]["id"])
        try:
            chosen = random.sample(items, k=min(len(items), random.randint(1, 4)))
            lines = [
                {"product_id": p["id"], "qty": random.randint(1, min(2, p["available"]))} for p in chosen
            ]
            status, body = self.call(
                "PUT",
                f"{POS}/transactions/{sale_id}/lines",
                f"{POS}/transactions/{{id}}/lines",
                body={"lines": lines},
                handled=("INSUFFICIENT_STOCK",),
            )
            if status != 200:
                return
            total = Decimal(body["data"]["total"]["amount"])
            # Exact cash, or the next 1,000 IQD note with change given.
            tendered = total if random.random() < 0.6 else (total / 1000).to_integral(ROUND_CEILING) * 1000
            status, body = self.call(
                "POST",
                f"{POS}/transactions/{sale_id}/payments",
                f"{POS}/transactions/{{id}}/payments",
                body={"tenders": [{"method": "cash", "amount": _money(tendered, "IQD")}]},
                idempotency_key=str(uuid.uuid4()),
                handled=("INSUFFICIENT_STOCK",),
            )
            if status != 200:
                return
            self.sale_id = None
            if random.random() < 0.1:
                line = body["data"]["lines"][0]
                self.call(
                    "POST",
                    f"{POS}/transactions/{sale_id}/refunds",
                    f"{POS}/transactions/{{id}}/refunds",
                    body={
                        "lines": [{"line_id": line["id"], "qty": 1}],
                        "method": "cash",
                        "reason": "Customer changed their mind",
                    },
                    idempotency_key=str(uuid.uuid4()),
                    ok=(201,),
                    handled=("DRAWER_NEGATIVE", "APPROVAL_REQUIRED"),
                )
        finally:
            if self.sale_id is not None:
                self.discard(sale_id)

    def discard(self, sale_id: int) -> None:
        self.call(
            "DELETE",
            f"{POS}/transactions/{sale_id}?{_qs(reason='load test: not paid')}",
            f"{POS}/transactions/{{id}}",
            handled=("TRANSACTION_COMPLETED", "TRANSACTION_NOT_OPEN"),
        )
        self.sale_id = None


# --- cache hit rate and handled outcomes over the measured window -------------------------------

_window: dict[str, Any] = {}


def scrape_cache(host: str) -> dict[tuple[str, str], float]:
    """tsh_cache_requests_total by (category, outcome) from /metrics."""
    with urllib.request.urlopen(f"{host.rstrip('/')}/metrics", timeout=10) as r:
        text = r.read().decode()
    found: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("tsh_cache_requests_total{"):
            labels, value = line[len("tsh_cache_requests_total{") :].rsplit("} ", 1)
            parts = dict(p.split("=", 1) for p in labels.split(","))
            key = (parts["category"].strip('"'), parts["outcome"].strip('"'))
            found[key] = found.get(key, 0.0) + float(value)
    return found


def cache_summary(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]
) -> dict[str, Any]:
    """Hits / (hits + misses) over the screen categories, overall and per category."""
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    screens = {c for c, _ in delta if c not in ("principal", "invalidation")}
    per = {}
    for c in sorted(screens):
        hits, misses = delta.get((c, "hit"), 0.0), delta.get((c, "miss"), 0.0)
        per[c] = {"hits": hits, "misses": misses, "errors": delta.get((c, "error"), 0.0)}
    hits = sum(v["hits"] for v in per.values())
    misses = sum(v["misses"] for v in per.values())
    return {"hit_rate": hits / (hits + misses) if hits + misses else None, "per_category": per}


def _user_ready(environment: Any) -> None:
    """Called when a simulated user finished on_start; the last one opens the measured window."""
    _window["ready"] = _window.get("ready", 0) + 1
    target = environment.runner.target_user_count if environment.runner else 0
    if _window["ready"] == target and "cache" not in _window:
        gevent.spawn(_open_window, environment)


def _open_window(environment: Any) -> None:
    # Every simulated user is logged in and set up: logins and set-up stay out of the figures.
    environment.runner.stats.reset_all()
    HANDLED.clear()
    with contextlib.suppress(OSError):
        _window["cache"] = scrape_cache(environment.host)
    measure = environment.parsed_options.tsh_measure
    print(f"measuring from now on ({environment.runner.user_count} users ready)", flush=True)
    if measure > 0:
        gevent.spawn_later(measure, environment.runner.quit)


@events.test_stop.add_listener
def _test_stop(environment: Any, **_: Any) -> None:
    report: dict[str, Any] = {"handled": dict(HANDLED.most_common())}
    with contextlib.suppress(OSError, KeyError):
        report["cache"] = cache_summary(_window["cache"], scrape_cache(environment.host))
    total = sum(HANDLED.values())
    print(f"handled business outcomes: {total} {dict(HANDLED.most_common())}")
    if report.get("cache", {}).get("hit_rate") is not None:
        print(f"screen cache hit rate: {100 * report['cache']['hit_rate']:.1f} %")
    path = environment.parsed_options.tsh_report if environment.parsed_options else ""
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=1)


# --- the stepped run ---------------------------------------------------------------------------


def _aggregated(stats_csv: str) -> dict[str, str]:
    with open(stats_csv) as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")


def main() -> None:
    """Start a 2-worker server (PostgreSQL + Redis) and step Locust through the user counts."""
    import argparse
    import os
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    from bench.server import ROOT, prepare_database, running_server

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/tsh_bench_demo")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    ap.add_argument("--users", default="20,50,100")
    ap.add_argument("--duration", type=int, default=60, help="measured seconds per step (after ramp-up)")
    ap.add_argument("--spawn-rate", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wait", default="0.5,2", help="think time between tasks, min,max seconds")
    ap.add_argument("--out", default=str(ROOT / "var/bench/locust"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    prepare_database(args.database_url)
    locust = str(Path(sys.executable).with_name("locust"))
    env = {
        "TSH_DATABASE_URL": args.database_url,
        "TSH_REDIS_URL": args.redis_url,
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="tsh-prom-"),
        # One login per account per step; several steps a minute would pass the 20/minute IP limit.
        "TSH_RATE_LIMIT_LOGIN_IP": "1000/minute",
    }
    rows = []
    with running_server(env, workers=args.workers) as port:
        host = f"http://127.0.0.1:{port}"
        for users in (int(u) for u in args.users.split(",")):
            ramp = users / args.spawn_rate
            load_before = os.getloadavg()
            prefix = out / f"u{users}"
            subprocess.run(
                [
                    locust,
                    "-f",
                    str(ROOT / "bench/locustfile.py"),
                    "--headless",
                    "--only-summary",
                    "-u",
                    str(users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",  # a safety bound: the locustfile stops after --tsh-measure
                    f"{int(ramp + args.duration + 180)}s",
                    "--tsh-measure",
                    str(args.duration),
                    "--stop-timeout",
                    "10",
                    "--host",
                    host,
                    "--csv",
                    str(prefix),
                    "--tsh-wait",
                    args.wait,
                    "--tsh-report",
                    f"{prefix}.json",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                check=False,
            )
            agg = _aggregated(f"{prefix}_stats.csv")
            report = json.loads(Path(f"{prefix}.json").read_text())
            requests, failures = int(agg["Request Count"]), int(agg["Failure Count"])
            hit_rate = (report.get("cache") or {}).get("hit_rate")
            row = {
                "users": users,
                "rps": float(agg["Requests/s"]),
                "p50": float(agg["50%"]),
                "p95": float(agg["95%"]),
                "p99": float(agg["99%"]),
                "requests": requests,
                "failures": failures,
                "error_pct": 100 * failures / requests if requests else 0.0,
                "handled": sum(report.get("handled", {}).values()),
                "hit_pct": None if hit_rate is None else 100 * hit_rate,
                "load": (load_before, os.getloadavg()),
            }
            rows.append(row)
            time.sleep(2)
    print(
        f"\nworkers={args.workers} wait={args.wait}s measured={args.duration}s/step "
        f"database={args.database_url}"
    )
    print(
        f"{'users':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'requests':>9} "
        f"{'failures':>8} {'error %':>7} {'handled':>7} {'cache hit %':>11}  load avg 1m before/after"
    )
    for r in rows:
        hit = "n/a" if r["hit_pct"] is None else f"{r['hit_pct']:.1f}"
        print(
            f"{r['users']:>5} {r['rps']:>7.1f} {r['p50']:>7.0f} {r['p95']:>7.0f} {r['p99']:>7.0f} "
            f"{r['requests']:>9} {r['failures']:>8} {r['error_pct']:>7.2f} {r['handled']:>7} {hit:>11}  "
            f"{r['load'][0][0]:.2f} / {r['load'][1][0]:.2f}"
        )
    held = [r for r in rows if r["p95"] < 100]
    if held:
        best = max(held, key=lambda r: r["rps"])
        print(f"highest held with p95 < 100 ms: {best['rps']:.1f} req/s at {best['users']} users")
    else:
        print("no step held p95 < 100 ms")


if __name__ == "__main__":
    main()
