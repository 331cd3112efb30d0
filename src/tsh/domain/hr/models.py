"""Tables of the HR context (domain.md §9, apps/hr.md).

Employee.status stores only `active` or `terminated`: `on_leave` is derived (an active employee whose
approved leave request covers today) and is never written. Leave day counts are NUMERIC(5, 1)
because half days exist. Other contexts are referenced by table name only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin

CURRENCIES = ("IQD", "USD")
EMPLOYEE_STATUSES = ("active", "terminated")
ATTENDANCE_STATUSES = ("present", "late", "absent", "on_leave", "half_day")
ATTENDANCE_FLAGS = ("off_site", "clock_skew")
LEAVE_TYPES = ("annual", "sick", "unpaid", "emergency", "maternity")
LEAVE_STATUSES = ("pending", "approved", "rejected", "cancelled")
PAYROLL_STATUSES = ("calculated", "approved", "paid")
CYCLE_STATUSES = ("open", "closed")
REVIEW_STATUSES = ("awaiting_self", "awaiting_manager", "completed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """An enum as a named CHECK (no native DB enums: portable, and no ALTER TYPE later)."""
    return CheckConstraint(_in(column, values), name=column)


def _default_weekly_off_days() -> list[int]:
    # ISO weekdays (1 = Monday … 7 = Sunday); Friday is the weekly day off in Iraq.
    return [5]


class Department(TimestampMixin, Base):
    """An organisational unit (tree) with its head; optional branch."""

    __tablename__ = "departments"
    __table_args__ = (Index("ix_departments_parent_id", "parent_id"),)

    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # use_alter: employees.department_id points back here.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", use_alter=True))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    is_active: Mapped[bool] = mapped_column(default=True)


class Employee(TimestampMixin, Base):
    """A staff member: job, manager, salary, schedule; staff users are linked through user_id."""

    __tablename__ = "employees"
    __table_args__ = (
        _one_of("status", EMPLOYEE_STATUSES),
        _one_of("currency", CURRENCIES),
        CheckConstraint("base_salary >= 0", name="base_salary_non_negative"),
        CheckConstraint(
            "previous_base_salary IS NULL OR previous_base_salary >= 0", name="previous_salary_non_negative"
        ),
        CheckConstraint("annual_leave_days >= 0", name="annual_leave_days_non_negative"),
        CheckConstraint(
            "(termination_date IS NULL) = (termination_reason IS NULL)", name="termination_together"
        ),
        Index("ix_employees_branch_id_status", "branch_id", "status"),
        Index("ix_employees_department_id", "department_id"),
        Index("ix_employees_manager_id", "manager_id"),
    )

    code: Mapped[str] = mapped_column(String(20), unique=True)
    # A user is linked to at most one employee (409 USER_ALREADY_LINKED).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str] = mapped_column(String(30), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    job_title: Mapped[str] = mapped_column(String(100))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    hire_date: Mapped[dt.date]
    termination_date: Mapped[dt.date | None]
    termination_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active")
    base_salary: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    salary_effective_from: Mapped[dt.date | None]
    # Salary before salary_effective_from, so payroll can prorate a mid-month change.
    previous_base_salary: Mapped[Decimal | None]
    # Field staff (salespeople, technicians) are not held to the branch geofence.
    field_staff: Mapped[bool] = mapped_column(default=False)
    # Work schedule (Asia/Baghdad local times).
    work_start: Mapped[dt.time] = mapped_column(default=dt.time(8, 0))
    work_end: Mapped[dt.time] = mapped_column(default=dt.time(16, 0))
    weekly_off_days: Mapped[list[Any]] = mapped_column(JsonType, default=_default_weekly_off_days)
    annual_leave_days: Mapped[int] = mapped_column(default=21)


class PublicHoliday(TimestampMixin, Base):
    """A non-working day, company-wide or for one branch; excluded from leave days and absences."""

    __tablename__ = "public_holidays"
    __table_args__ = (
        UniqueConstraint("date", "branch_id"),
        # NULLs are distinct in unique constraints: one company-wide holiday per date needs its own index.
        Index(
            "uq_public_holidays_company_date",
            "date",
            unique=True,
            postgresql_where=text("branch_id IS NULL"),
            sqlite_where=text("branch_id IS NULL"),
        ),
    )

    date: Mapped[dt.date]
    name: Mapped[str] = mapped_column(String(200))
    # NULL = every branch.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))


class AttendanceRecord(TimestampMixin, Base):
    """One employee's attendance for one day: GPS check-in/out, lateness, overtime, corrections."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        # Also the (employee_id, date) access path.
        UniqueConstraint("employee_id", "date"),
        _one_of("status", ATTENDANCE_STATUSES),
        CheckConstraint(
            "late_min >= 0 AND overtime_min >= 0 AND worked_min >= 0", name="minutes_non_negative"
        ),
        CheckConstraint(
            "check_out_at IS NULL OR (check_in_at IS NOT NULL AND check_out_at >= check_in_at)",
            name="check_out_after_check_in",
        ),
        Index("ix_attendance_records_date", "date"),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    # Business date in Asia/Baghdad.
    date: Mapped[dt.date]
    check_in_at: Mapped[dt.datetime | None]
    check_in_lat: Mapped[float | None]
    check_in_lng: Mapped[float | None]
    check_in_accuracy_m: Mapped[float | None]
    check_in_distance_m: Mapped[float | None]
    # Clock reported by the device; more than 5 minutes off server time raises the clock_skew flag.
    check_in_device_time: Mapped[dt.datetime | None]
    check_out_at: Mapped[dt.datetime | None]
    check_out_lat: Mapped[float | None]
    check_out_lng: Mapped[float | None]
    check_out_accuracy_m: Mapped[float | None]
    check_out_distance_m: Mapped[float | None]
    check_out_device_time: Mapped[dt.datetime | None]
    # Check-in selfie.
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    status: Mapped[str] = mapped_column(String(10), default="present")
    late_min: Mapped[int] = mapped_column(default=0)
    overtime_min: Mapped[int] = mapped_column(default=0)
    worked_min: Mapped[int] = mapped_column(default=0)
    # Subset of ATTENDANCE_FLAGS.
    flags: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    corrected_at: Mapped[dt.datetime | None]
    correction_reason: Mapped[str | None] = mapped_column(Text)


class LeaveRequest(TimestampMixin, Base):
    """An employee's request for leave between two dates, decided by their manager or HR."""

    __tablename__ = "leave_requests"
    __table_args__ = (
        _one_of("type", LEAVE_TYPES),
        _one_of("status", LEAVE_STATUSES),
        CheckConstraint("to_date >= from_date", name="date_range"),
        CheckConstraint("days > 0", name="days_positive"),
        Index("ix_leave_requests_employee_id_status", "employee_id", "status"),
        Index("ix_leave_requests_status_from_date", "status", "from_date"),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    type: Mapped[str] = mapped_column(String(10))
    # `from` / `to` of domain.md (inclusive dates).
    from_date: Mapped[dt.date]
    to_date: Mapped[dt.date]
    half_day: Mapped[bool] = mapped_column(default=False)
    # Working days only (weekly off-days and public holidays excluded); 0.5 for a half day.
    days: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    reason: Mapped[str | None] = mapped_column(Text)
    # Medical note.
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class LeaveBalance(TimestampMixin, Base):
    """Days of one leave type an employee is entitled to in a year, and how many are taken or pending."""

    __tablename__ = "leave_balances"
    __table_args__ = (
        UniqueConstraint("employee_id", "year", "type"),
        _one_of("type", LEAVE_TYPES),
        CheckConstraint(
            "entitled >= 0 AND carried_over >= 0 AND taken >= 0 AND pending >= 0", name="days_non_negative"
        ),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    year: Mapped[int]
    type: Mapped[str] = mapped_column(String(10))
    # remaining = entitled + carried_over - taken - pending (computed, not stored).
    entitled: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    carried_over: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    taken: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    pending: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))


class PayrollRun(TimestampMixin, Base):
    """A month's payroll, company-wide or for one branch: calculated, approved (accrued), then paid."""

    __tablename__ = "payroll_runs"
    __table_args__ = (
        UniqueConstraint("year", "month", "branch_id"),
        # NULLs are distinct in unique constraints: one company-wide run per month needs its own index.
        Index(
            "uq_payroll_runs_company_month",
            "year",
            "month",
            unique=True,
            postgresql_where=text("branch_id IS NULL"),
            sqlite_where=text("branch_id IS NULL"),
        ),
        _one_of("status", PAYROLL_STATUSES),
        CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        CheckConstraint("employee_count >= 0", name="employee_count_non_negative"),
        CheckConstraint(
            "gross_iqd >= 0 AND net_iqd >= 0 AND gross_usd >= 0 AND net_usd >= 0", name="totals_non_negative"
        ),
    )

    year: Mapped[int]
    month: Mapped[int]
    # NULL = all branches.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(10), default="calculated")
    employee_count: Mapped[int] = mapped_column(default=0)
    # Totals per currency: payslips are in each employee's salary currency.
    gross_iqd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    net_iqd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    gross_usd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    net_usd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    calculated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    calculated_at: Mapped[dt.datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[dt.datetime | None]
    paid_on: Mapped[dt.date | None]
    # Payment reference (HR-19).
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    accrual_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    payment_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    payslips: Mapped[list[Payslip]] = relationship(
        back_populates="run", lazy="raise", cascade="all, delete-orphan", order_by="Payslip.id"
    )


class Payslip(TimestampMixin, Base):
    """One employee's pay for a run: earnings, deductions, gross and net, with its lines."""

    __tablename__ = "payslips"
    __table_args__ = (
        UniqueConstraint("run_id", "employee_id"),
        _one_of("currency", CURRENCIES),
        CheckConstraint(
            "base >= 0 AND overtime >= 0 AND commission >= 0 AND allowances >= 0"
            " AND deductions >= 0 AND gross >= 0 AND net >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint("working_days >= 0 AND overtime_min >= 0", name="counts_non_negative"),
        Index("ix_payslips_employee_id", "employee_id"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_runs.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    # One currency serves every amount of the slip (the employee's salary currency).
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    base: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    overtime: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    commission: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    allowances: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    deductions: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    working_days: Mapped[int] = mapped_column(default=0)
    overtime_min: Mapped[int] = mapped_column(default=0)
    leave_days: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    # [{code, label, amount}] as decimal strings; earnings positive, deductions negative.
    lines: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # Calculation warnings shown by HR-16 (missing attendance, mid-month salary change).
    warnings: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # Set when the run is paid; employees see only published slips.
    published_at: Mapped[dt.datetime | None]

    run: Mapped[PayrollRun] = relationship(back_populates="payslips", lazy="raise")


class ReviewCycle(TimestampMixin, Base):
    """A performance review round over a period with weighted criteria, optionally for a department/branch."""

    __tablename__ = "review_cycles"
    __table_args__ = (
        _one_of("status", CYCLE_STATUSES),
        CheckConstraint("period_to >= period_from", name="period_range"),
        CheckConstraint("manager_due >= self_due", name="due_order"),
    )

    name: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[dt.date]
    period_to: Mapped[dt.date]
    # [{code, title, weight}]; weights sum to 100.
    criteria: Mapped[list[Any]] = mapped_column(JsonType)
    self_due: Mapped[dt.date]
    manager_due: Mapped[dt.date]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The hr_manager who opened it reviews employees that have no (user-linked) manager.
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None]


class PerformanceReview(TimestampMixin, Base):
    """One employee's review in a cycle: self-assessment, then the reviewer's scores and overall score."""

    __tablename__ = "performance_reviews"
    __table_args__ = (
        UniqueConstraint("cycle_id", "employee_id"),
        _one_of("status", REVIEW_STATUSES),
        CheckConstraint(
            "overall_score IS NULL OR (overall_score >= 1 AND overall_score <= 5)", name="overall_score_range"
        ),
        Index("ix_performance_reviews_employee_id", "employee_id"),
        Index("ix_performance_reviews_reviewer_user_id_status", "reviewer_user_id", "status"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycles.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    # The employee's manager at cycle opening; NULL when the cycle's opener reviews instead.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    # The user who must submit the manager assessment (the reviewer's user, or the cycle opener):
    # "own as reviewer" (HR-23..25) is a lookup on this column.
    reviewer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="awaiting_self")
    # [{code, score (1-5), comment}].
    self_scores: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    manager_scores: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    self_summary: Mapped[str | None] = mapped_column(Text)
    # The reviewer's summary (domain.md `summary`).
    summary: Mapped[str | None] = mapped_column(Text)
    # Weighted mean of the manager scores.
    overall_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    self_submitted_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
