"""The Flutter client's sync loop (docs/mobile.md), as the tests run it."""

from __future__ import annotations

from typing import Any

from tests.http import Api

BASE = "/api/bff/mobile/sync/"


async def sync(
    api: Api, email: str, collection: str, local: dict[int, Any], since: str | None = None, limit: int = 7
) -> str:
    """Pages until has_more is false, applying each change to `local`; returns the last cursor."""
    while True:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        r = await api.get(email, BASE + collection, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["success"] is True and body["metadata"]["request_id"]
        data = body["data"]
        assert data["schema_version"] == 1
        for change in data["changes"]:
            if change["op"] == "upsert":
                local[change["id"]] = change["data"] | {"_version": change["version"]}
            else:
                assert change["data"] is None
                local.pop(change["id"], None)
        since = data["next_cursor"]
        if not data["has_more"]:
            return since
