"""ADM-04 with HR-05's employee fields: an admin hires the employee and creates its user in one
call (clarifications: "an admin may create the employee and user in one call (HR-05 fields) or
link an existing employee. The same service serves HR-05").

It sits above identity and hr because it needs both: the employee is hired by HR's service (its
rules: NATIONAL_ID_TAKEN, MANAGER_CYCLE-free references, schedule) and the user is created by
ADM-04's (EMAIL_TAKEN, LINK_REQUIRED, the setup link), in the caller's one unit of work, so a
refusal by either leaves neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.hiring import hire_employee
from tsh.domain.identity.administration import IssuedLink, create_user, require_admin
from tsh.domain.identity.models import User
from tsh.platform.errors import Invalid, field_error


async def create_user_with_employee(
    session: AsyncSession,
    actor: Actor,
    *,
    employee: dict[str, Any],
    name: str,
    email: str,
    phone: str | None,
    role: str,
    branch_id: int | None,
    language: str | None,
    employee_id: int | None,
    customer_id: int | None,
    partner_id: int | None,
) -> tuple[User, IssuedLink]:
    """ADM-04 creating the employee too. `employee` holds `hire_employee`'s keyword arguments.

    422 VALIDATION_ERROR when an employee is both linked and created, or a customer/partner link
    is given, or the user's branch is not the employee's; then the codes of HR-05
    (NATIONAL_ID_TAKEN, references) and ADM-04 (EMAIL_TAKEN, BRANCH_REQUIRED, LINK_REQUIRED …).
    Emits EmployeeChanged and UserChanged.
    """
    require_admin(actor)  # before anyone is hired
    problems = []
    if employee_id is not None:
        problems.append(field_error("employee_id", "link an employee or create one, not both"))
    if customer_id is not None or partner_id is not None:
        problems.append(field_error("employee", "an employee's user links no customer or partner"))
    if branch_id is not None and branch_id != employee["branch_id"]:
        problems.append(field_error("branch_id", "must be the employee's branch"))
    if problems:
        raise Invalid("The employee cannot be created with this user", details=problems)
    hired = await hire_employee(session, actor, **employee)
    return await create_user(
        session,
        actor,
        name=name,
        email=email,
        phone=phone,
        role=role,
        branch_id=employee["branch_id"],
        language=language,
        employee_id=hired.employee.id,
        customer_id=None,
        partner_id=None,
    )
