"""Declarations of the operational records (core.md §2.2): security, POS, stock, ledger.

Mostly read-only: these records change through their BFF actions. Reads follow the roles and
scopes of the matching BFF screens (SEC-*, POS-06/15, INV-*, ACC-*), one scope rule per resource.
The writes declared here run domain services (`services`, `receipts`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tsh.api.legacy import services
from tsh.api.legacy.access import Access, either, in_branch, is_caller, via_branch
from tsh.api.legacy.nesting import Expansion, many, one
from tsh.api.legacy.receipts import GOODS_RECEIPT
from tsh.api.legacy.resource import Resource
from tsh.domain.accounting.models import ExchangeRate, FiscalPeriod, JournalEntry, JournalLine, TaxReturn
from tsh.domain.identity.models import AuditLog, LoginAttempt, SecurityEvent, Threat, User, UserSession
from tsh.domain.inventory.models import (
    Adjustment,
    AdjustmentLine,
    Count,
    CountLine,
    GoodsReceipt,
    GoodsReceiptLine,
    StockMovement,
    Supplier,
    Transfer,
    TransferLine,
)
from tsh.domain.organisation.models import Warehouse
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction, Shift

SECURITY = Access(roles={"security_officer": "all"})
ACCOUNTANT = Access(roles={"accountant": "all"})


def stock_access(*warehouse_columns: Any) -> Access:
    """INV-01..20: inventory_manager all; warehouse_staff and branch_manager their branch's
    warehouses (either end when a record names two)."""
    return Access(
        roles={"inventory_manager": "all", "warehouse_staff": "branch", "branch_manager": "branch"},
        branch=either(*(via_branch(c, Warehouse) for c in warehouse_columns)),
    )


OPERATIONS: tuple[Resource, ...] = (
    # -- security (SEC-*) ------------------------------------------------------------------------
    Resource(
        "sessions",
        UserSession,
        SECURITY,
        frozenset({"list", "get", "delete"}),
        {"user_id": "user_id", "app": "app", "ip": "ip"},
        order=(("created_at", True),),
        expansion=Expansion((one("user", User, "user_id"),)),
        write_roles={"security_officer": "all"},
        commands={"delete": services.SESSION_REVOKE},
    ),
    Resource(
        "login-attempts",
        LoginAttempt,
        SECURITY,
        filters={n: n for n in ("result", "user_id", "email", "ip", "app")},
        order=(("at", True),),
    ),
    Resource(
        "security-events",
        SecurityEvent,
        SECURITY,
        filters={n: n for n in ("type", "severity", "user_id", "session_id", "threat_id", "ip")},
        order=(("at", True),),
    ),
    Resource(
        "threats",
        Threat,
        SECURITY,
        frozenset({"list", "get", "update"}),
        filters={n: n for n in ("status", "severity", "type", "user_id", "assignee_id")},
        order=(("last_seen", True),),
        expansion=Expansion((many("events", SecurityEvent, "threat_id", order_by="at"),)),
        write_roles={"security_officer": "all"},
        commands={"update": services.THREAT_UPDATE},
    ),
    Resource(
        "audit-logs",
        AuditLog,
        SECURITY,
        filters={n: n for n in ("actor_id", "app", "action", "entity_type", "entity_id", "decision")},
        order=(("at", True),),
    ),
    # -- POS (POS-06, POS-15) ---------------------------------------------------------------------
    Resource(
        "pos-shifts",
        Shift,
        Access(
            roles={"cashier": "own", "branch_manager": "branch"},
            own=is_caller(Shift.cashier_id),
            branch=in_branch(Shift.branch_id),
            owner="cashier_id",
        ),
        filters={n: n for n in ("cashier_id", "terminal_id", "branch_id", "status")},
        order=(("opened_at", True),),
        expansion=Expansion((one("terminal", PosTerminal, "terminal_id"),)),
    ),
    Resource(
        "pos-transactions",
        PosTransaction,
        Access(
            roles={"cashier": "own", "branch_manager": "branch"},
            own=lambda p: PosTransaction.shift_id.in_(select(Shift.id).where(Shift.cashier_id == p.user_id)),
            branch=in_branch(PosTransaction.branch_id),
        ),
        filters={n: n for n in ("shift_id", "branch_id", "customer_id", "status", "receipt_number")},
        order=(("created_at", True),),
        expansion=Expansion(
            (many("lines", PosLine, "transaction_id"), many("tenders", PosTender, "transaction_id"))
        ),
    ),
    # -- inventory (INV-*) ------------------------------------------------------------------------
    Resource(
        "stock-movements",
        StockMovement,
        stock_access(StockMovement.warehouse_id),
        frozenset({"list"}),
        {n: n for n in ("product_id", "warehouse_id", "type", "source_type", "source_id")},
        order=(("at", True),),
    ),
    Resource(
        "transfers",
        Transfer,
        stock_access(Transfer.from_warehouse_id, Transfer.to_warehouse_id),
        filters={n: n for n in ("from_warehouse_id", "to_warehouse_id", "status")},
        order=(("requested_at", True),),
        expansion=Expansion((many("lines", TransferLine, "transfer_id"),)),
    ),
    Resource(
        "adjustments",
        Adjustment,
        stock_access(Adjustment.warehouse_id),
        filters={n: n for n in ("warehouse_id", "reason", "source", "count_id")},
        order=(("created_at", True),),
        expansion=Expansion((many("lines", AdjustmentLine, "adjustment_id"),)),
    ),
    Resource(
        "counts",
        Count,
        stock_access(Count.warehouse_id),
        filters={n: n for n in ("warehouse_id", "status", "category_id")},
        order=(("created_at", True),),
        expansion=Expansion((many("lines", CountLine, "count_id"),)),
    ),
    Resource(
        "goods-receipts",
        GoodsReceipt,
        stock_access(GoodsReceipt.warehouse_id),
        frozenset({"list", "get", "create"}),
        {n: n for n in ("supplier_id", "warehouse_id", "currency")},
        order=(("received_at", True),),
        expansion=Expansion(
            (one("supplier", Supplier, "supplier_id"), many("lines", GoodsReceiptLine, "receipt_id"))
        ),
        write_roles={"inventory_manager": "all", "warehouse_staff": "branch"},
        commands={"create": GOODS_RECEIPT},
        idempotency="required",
    ),
    # -- accounting (ACC-*) -----------------------------------------------------------------------
    Resource(
        "journal-entries",
        JournalEntry,
        ACCOUNTANT,
        frozenset({"list", "get", "create"}),
        {n: n for n in ("journal_id", "fiscal_period_id", "status", "source_type", "source_id", "branch_id")},
        order=(("date", True),),
        expansion=Expansion((many("lines", JournalLine, "entry_id"),)),
        write_roles={"accountant": "all"},
        commands={"create": services.JOURNAL_ENTRY},
        idempotency="required",
    ),
    Resource(
        "fiscal-periods",
        FiscalPeriod,
        ACCOUNTANT,
        frozenset({"list", "get", "update"}),
        {"year": "year", "status": "status"},
        order=(("year", True), ("month", True)),
        write_roles={"accountant": "all"},  # closing; reopening is admin-only (the command's rule)
        commands={"update": services.PERIOD_STATUS},
    ),
    Resource(
        "exchange-rates",
        ExchangeRate,
        ACCOUNTANT,
        frozenset({"list", "create"}),
        order=(("effective_from", True),),
        write_roles={"accountant": "all"},
        commands={"create": services.EXCHANGE_RATE},
    ),
    Resource("tax-returns", TaxReturn, ACCOUNTANT, order=(("period_from", True),)),
)
