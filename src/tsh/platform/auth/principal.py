"""Who is calling: built from a verified access token and the current session/user state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["own", "branch", "all"]


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: str
    branch_id: int | None
    session_id: int
    permission_version: int
    permissions: frozenset[str] = field(default_factory=frozenset)
    language: str = "en"
    customer_id: int | None = None
    partner_id: int | None = None
    employee_id: int | None = None
    app: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
