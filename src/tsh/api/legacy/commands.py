"""The runner of service-backed legacy writes (`Resource.commands`).

Same frame as the generic writes (`writes`): the write role check, the strict body, the row loaded
inside the caller's write scope (404 outside), one audit row and the full record as the answer.
The difference is the middle: a domain service does the change and raises its own events, so a
rejected command raises a contract error and the unit of work rolls everything back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Op, Resource, load_scoped, render
from tsh.api.legacy.serialize import Record, to_dict
from tsh.api.legacy.writes import audit, flush_checked, still_in_scope, write_scope
from tsh.platform.auth.principal import Principal
from tsh.platform.http.validation import parse_json_body


async def run_command(
    session: AsyncSession,
    res: Resource,
    principal: Principal,
    op: Op,
    id_: int,
    raw: bytes,
    *,
    ip: str,
    request_id: str,
) -> Record:
    command = res.commands[op]
    scope = write_scope(res, principal)
    body: Any = parse_json_body(command.body, raw) if command.body is not None else None
    row, before = None, None
    if op != "create":
        row = await load_scoped(session, res, principal, id_, scope, lock=True)
        before = to_dict(row)
    result = await command.run(session, principal, row, body)
    await flush_checked(session)
    await session.refresh(result)
    if op == "create":
        await still_in_scope(session, res, principal, scope, result.id)  # e.g. another branch's warehouse
    after = to_dict(result)
    audit(session, res, principal, op, after["id"], before, after, ip, request_id)
    return await render(session, res, result)
