"""Non-BFF HTTP routes: authentication (/api/auth) and the legacy resource API (/api/...)."""

from __future__ import annotations

from fastapi import FastAPI

from tsh.api.auth import PUBLIC_PATHS

__all__ = ["PUBLIC_PATHS", "mount_api"]


def mount_api(app: FastAPI) -> None:
    from tsh.api.auth import router as auth_router

    app.include_router(auth_router)

    from tsh.api.legacy import build_router as build_legacy_router

    app.include_router(build_legacy_router())
