"""Response models shared by the security screens."""

from __future__ import annotations

from tsh.bff.views import RowId, View


class Person(View):
    id: RowId
    name: str
