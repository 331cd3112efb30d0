"""The company's chart of accounts, journals and default tax codes, as pure data.

The data migration inserts these rows; nothing here touches a database, so the module imports
without one. Parents come before their children in CHART, so rows can be inserted in order.

Codes: headers carry 1-3 digits and leaves 4, prefixed by their parents' codes, so a code's
length is its level in the tree (the trial balance's `level` filter reads it that way).

Services never hard-code codes: they post to `system_key`s through
`tsh.domain.accounting.posting.account_id`. Keys of the sub-ledgers:
- cash_iqd, cash_usd: tills and safes of every branch (branch shows on the journal line, so one
  account per currency is enough); bank_iqd, bank_usd: the company bank accounts.
- payment_clearing: card, Zain Cash and FastPay money owed by the provider until it settles to
  the bank (kept apart from cash so the drawer and the bank reconcile on their own).
- receivable (customer_id on the lines), inventory (at weighted average cost, IQD), vat_input.
- payable_suppliers, vat_output, tax_payable (the tax return moves vat_output - vat_input here),
  customer_credit (credit notes and unallocated payments), commission_payable, salaries_payable.
- owner_equity, retained_earnings (year-end closing entry).
- sales_revenue (net of line discounts and promotions: no separate discount account),
  delivery_revenue, service_revenue, fx_gain.
- cogs, inventory_adjustments (adjustments, count variances and transfer losses, both signs),
  commission_expense, salaries_expense, cash_over_short (both signs), fx_loss, bank_charges.

Tax: Iraq levies no general VAT. Sales tax applies to listed goods only, so the default code is a
0% "GST"-style sales tax and one 10% code covers luxury goods (and exercises the tax path end to
end). The accounts keep the vat_* keys for the sales tax collected and paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tsh.domain.accounting.models import ACCOUNT_TYPES, CASH_FLOW_CLASSES, JOURNAL_CODES, TAX_KINDS


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    name_en: str
    name_ar: str
    type: str
    # Code of the parent account (None for the five roots).
    parent: str | None
    is_postable: bool
    # None = lines in any currency.
    currency: str | None
    cash_flow_class: str | None
    system_key: str | None


@dataclass(frozen=True, slots=True)
class JournalSpec:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class TaxRateSpec:
    code: str
    name: str
    # Percent.
    rate: Decimal
    kind: str
    # system_key of the account the tax posts to.
    account_key: str
    effective_from: date


def _h(code: str, name_en: str, name_ar: str, type_: str, parent: str | None) -> AccountSpec:
    """A header (grouping) account: takes no lines, any currency, no cash-flow class of its own."""
    return AccountSpec(code, name_en, name_ar, type_, parent, False, None, None, None)


def _a(
    code: str,
    name_en: str,
    name_ar: str,
    type_: str,
    parent: str,
    flow: str,
    key: str | None = None,
    currency: str | None = None,
) -> AccountSpec:
    """A postable leaf."""
    return AccountSpec(code, name_en, name_ar, type_, parent, True, currency, flow, key)


A, L, E, R, X = "asset", "liability", "equity", "revenue", "expense"
OP, INV, FIN, CASH = "operating", "investing", "financing", "cash"

CHART: tuple[AccountSpec, ...] = (
    # Assets
    _h("1", "Assets", "الأصول", A, None),
    _h("11", "Current assets", "الأصول المتداولة", A, "1"),
    _h("111", "Cash and banks", "النقد والمصارف", A, "11"),
    # Only cash and bank accounts are bound to a currency (a till or a bank account holds one).
    # Every other account takes entries in either currency: a USD goods receipt or invoice posts
    # inventory, tax and revenue in USD, and the ledger keeps the IQD base of every line anyway.
    _a("1111", "Cash on hand - IQD", "النقد في الصندوق - دينار", A, "111", CASH, "cash_iqd", "IQD"),
    _a("1112", "Cash on hand - USD", "النقد في الصندوق - دولار", A, "111", CASH, "cash_usd", "USD"),
    _a("1113", "Bank - IQD", "المصرف - دينار", A, "111", CASH, "bank_iqd", "IQD"),
    _a("1114", "Bank - USD", "المصرف - دولار", A, "111", CASH, "bank_usd", "USD"),
    _a("1115", "Card and e-wallet clearing", "تسويات البطاقات والمحافظ", A, "111", OP, "payment_clearing"),
    _h("112", "Receivables", "الذمم المدينة", A, "11"),
    _a("1121", "Trade receivables", "ذمم العملاء", A, "112", OP, "receivable"),
    _a("1122", "Employee advances", "سلف الموظفين", A, "112", OP),
    _h("113", "Inventory", "المخزون", A, "11"),
    _a("1131", "Merchandise inventory", "مخزون البضائع", A, "113", OP, "inventory"),
    _h("114", "Tax receivable", "ضرائب مستردة", A, "11"),
    _a("1141", "Sales tax paid on purchases", "ضريبة المبيعات على المشتريات", A, "114", OP, "vat_input"),
    _h("12", "Non-current assets", "الأصول غير المتداولة", A, "1"),
    _h("121", "Fixed assets", "الأصول الثابتة", A, "12"),
    _a("1211", "Furniture and equipment", "الأثاث والمعدات", A, "121", INV),
    _a("1212", "Vehicles", "المركبات", A, "121", INV),
    _a("1213", "Accumulated depreciation", "مجمع الاستهلاك", A, "121", INV),
    # Liabilities
    _h("2", "Liabilities", "الالتزامات", L, None),
    _h("21", "Current liabilities", "الالتزامات المتداولة", L, "2"),
    _h("211", "Payables", "الذمم الدائنة", L, "21"),
    _a("2111", "Supplier payables", "ذمم الموردين", L, "211", OP, "payable_suppliers"),
    _a("2112", "Commissions payable", "عمولات مستحقة", L, "211", OP, "commission_payable"),
    _a("2113", "Salaries payable", "رواتب مستحقة", L, "211", OP, "salaries_payable"),
    _h("212", "Taxes", "الضرائب", L, "21"),
    _a("2121", "Sales tax collected", "ضريبة المبيعات المحصلة", L, "212", OP, "vat_output"),
    _a("2122", "Tax payable", "ضرائب مستحقة الدفع", L, "212", OP, "tax_payable"),
    _h("213", "Customer balances", "أرصدة العملاء", L, "21"),
    _a("2131", "Customer credit", "أرصدة العملاء الدائنة", L, "213", OP, "customer_credit"),
    # Equity
    _h("3", "Equity", "حقوق الملكية", E, None),
    _h("31", "Capital and reserves", "رأس المال والاحتياطيات", E, "3"),
    _a("3110", "Owner's equity", "رأس مال المالك", E, "31", FIN, "owner_equity"),
    _a("3120", "Retained earnings", "الأرباح المحتجزة", E, "31", FIN, "retained_earnings"),
    # Revenue
    _h("4", "Revenue", "الإيرادات", R, None),
    _h("41", "Operating revenue", "إيرادات التشغيل", R, "4"),
    _a("4110", "Sales revenue", "إيرادات المبيعات", R, "41", OP, "sales_revenue"),
    _a("4120", "Delivery revenue", "إيرادات التوصيل", R, "41", OP, "delivery_revenue"),
    _a("4130", "Service and repair revenue", "إيرادات الخدمات والصيانة", R, "41", OP, "service_revenue"),
    _h("42", "Other income", "إيرادات أخرى", R, "4"),
    _a("4210", "Exchange gains", "أرباح فروقات العملة", R, "42", OP, "fx_gain"),
    _a("4220", "Miscellaneous income", "إيرادات متنوعة", R, "42", OP),
    # Expenses
    _h("5", "Expenses", "المصروفات", X, None),
    _h("51", "Cost of sales", "تكلفة المبيعات", X, "5"),
    _a("5110", "Cost of goods sold", "تكلفة البضاعة المباعة", X, "51", OP, "cogs"),
    _a("5120", "Inventory adjustments", "تسويات المخزون", X, "51", OP, "inventory_adjustments"),
    _h("52", "Selling expenses", "مصروفات البيع", X, "5"),
    _a("5210", "Sales commissions", "مصروف العمولات", X, "52", OP, "commission_expense"),
    _a("5220", "Delivery expenses", "مصروفات التوصيل", X, "52", OP),
    _h("53", "Administrative expenses", "المصروفات الإدارية", X, "5"),
    _a("5310", "Salaries and wages", "الرواتب والأجور", X, "53", OP, "salaries_expense"),
    _a("5320", "Rent", "الإيجار", X, "53", OP),
    _a("5330", "Utilities", "الكهرباء والماء والخدمات", X, "53", OP),
    _a("5340", "Bank charges", "العمولات المصرفية", X, "53", OP, "bank_charges"),
    _h("54", "Other expenses", "مصروفات أخرى", X, "5"),
    _a("5410", "Cash over and short", "فروقات الصندوق", X, "54", OP, "cash_over_short"),
    _a("5420", "Exchange losses", "خسائر فروقات العملة", X, "54", OP, "fx_loss"),
)

JOURNALS: tuple[JournalSpec, ...] = (
    JournalSpec("GEN", "General journal"),
    JournalSpec("SAL", "Sales journal"),
    JournalSpec("POS", "Point of sale journal"),
    JournalSpec("CSH", "Cash journal"),
    JournalSpec("BNK", "Bank journal"),
    JournalSpec("PAY", "Payroll journal"),
    JournalSpec("INV", "Inventory journal"),
    JournalSpec("TAX", "Tax journal"),
)

# Open-ended first versions, dated early enough to cover every seeded document.
_TAX_FROM = date(2020, 1, 1)
DEFAULT_TAX_RATES: tuple[TaxRateSpec, ...] = (
    TaxRateSpec("GST0", "Sales tax exempt (0%)", Decimal("0"), "sales", "vat_output", _TAX_FROM),
    TaxRateSpec("LUX10", "Luxury goods sales tax (10%)", Decimal("10"), "sales", "vat_output", _TAX_FROM),
    TaxRateSpec("IN0", "Purchase tax exempt (0%)", Decimal("0"), "purchase", "vat_input", _TAX_FROM),
    TaxRateSpec("IN10", "Purchase sales tax (10%)", Decimal("10"), "purchase", "vat_input", _TAX_FROM),
)
# The code products get unless they are luxury goods.
DEFAULT_SALES_TAX_CODE = "GST0"

SYSTEM_KEYS: frozenset[str] = frozenset(a.system_key for a in CHART if a.system_key)
BY_CODE: dict[str, AccountSpec] = {a.code: a for a in CHART}
BY_SYSTEM_KEY: dict[str, AccountSpec] = {a.system_key: a for a in CHART if a.system_key}


def chart_problems() -> list[str]:
    """Consistency of the data above (tests assert it is empty; the migration relies on it)."""
    problems: list[str] = []
    seen: dict[str, AccountSpec] = {}
    keys: set[str] = set()
    for a in CHART:
        if a.code in seen:
            problems.append(f"{a.code}: duplicate code")
        if a.type not in ACCOUNT_TYPES:
            problems.append(f"{a.code}: unknown type {a.type}")
        if a.cash_flow_class is not None and a.cash_flow_class not in CASH_FLOW_CLASSES:
            problems.append(f"{a.code}: unknown cash flow class")
        if a.parent is not None:
            parent = seen.get(a.parent)
            if parent is None:
                problems.append(f"{a.code}: parent {a.parent} missing or listed after it")
            elif parent.is_postable or parent.type != a.type or not a.code.startswith(parent.code):
                problems.append(f"{a.code}: parent {a.parent} postable, of another type or not a prefix")
        if a.system_key:
            if a.system_key in keys:
                problems.append(f"{a.code}: duplicate system_key {a.system_key}")
            keys.add(a.system_key)
            if not a.is_postable:
                problems.append(f"{a.code}: a system account must be postable")
        seen[a.code] = a
    if tuple(j.code for j in JOURNALS) != JOURNAL_CODES:
        problems.append("journals differ from JOURNAL_CODES")
    for t in DEFAULT_TAX_RATES:
        if t.kind not in TAX_KINDS or t.account_key not in keys:
            problems.append(f"tax {t.code}: unknown kind or account")
    return problems
