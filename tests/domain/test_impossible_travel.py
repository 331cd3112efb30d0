"""impossible_travel (clarifications: threat detectors): two successful logins of one user from
different countries faster than TSH_THREAT_TRAVEL_KMH, placed by a MaxMind-format database.

The database is written here with mmdb-writer (none is shipped); logins go through the real
login service, so the attempt rows, the threat and its security event are the product's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from sqlalchemy import select
from tests.http import demo

from tsh.context import AppContext
from tsh.domain.identity.detectors import detector_states
from tsh.domain.identity.login import login
from tsh.domain.identity.models import SecurityEvent, Threat, User
from tsh.platform.db.uow import unit_of_work
from tsh.seed.demo_users import DEMO_PASSWORD

BAGHDAD, BASRA, KANSAS = "37.236.10.20", "37.237.10.20", "8.8.8.8"


@pytest.fixture(scope="module")
def geoip_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-City")
    places = {
        "37.236.0.0/16": ("IQ", 33.31, 44.36),
        "37.237.0.0/16": ("IQ", 30.51, 47.78),
        "8.8.8.0/24": ("US", 37.75, -97.82),
    }
    for network, (country, lat, lon) in places.items():
        writer.insert_network(
            IPSet([network]),
            {"country": {"iso_code": country}, "location": {"latitude": lat, "longitude": lon}},
        )
    path = tmp_path_factory.mktemp("geoip") / "city.mmdb"
    writer.to_db_file(str(path))
    return str(Path(path))


async def _login(ctx: AppContext, settings: Any, email: str, ip: str) -> None:
    async with unit_of_work(ctx.db, ctx.bus) as session:
        result = await login(
            session, settings, email=email, password=DEMO_PASSWORD, app="salesperson",
            device_id=None, device_name=None, ip=ip, user_agent="pytest",
        )  # fmt: skip
        assert getattr(result, "access_token", None), result


async def _travel(ctx: AppContext, email: str) -> tuple[list[Threat], list[SecurityEvent]]:
    async with ctx.db.read_session() as s:
        uid = await s.scalar(select(User.id).where(User.email == email))
        threats = (
            await s.scalars(select(Threat).where(Threat.user_id == uid, Threat.type == "impossible_travel"))
        ).all()
        events = (
            await s.scalars(
                select(SecurityEvent).where(
                    SecurityEvent.user_id == uid, SecurityEvent.type == "impossible_travel"
                )
            )
        ).all()
    return list(threats), list(events)


async def test_baghdad_then_kansas_minutes_later_is_a_threat(ctx: AppContext, geoip_db: str) -> None:
    settings = ctx.settings.model_copy(update={"geoip_db": geoip_db})
    email = demo("warehouse_staff", 2)
    await _login(ctx, settings, email, BAGHDAD)
    await _login(ctx, settings, email, KANSAS)
    threats, events = await _travel(ctx, email)
    assert [(t.severity, t.status) for t in threats] == [("high", "open")]
    assert KANSAS in threats[0].ips
    (event,) = events
    assert event.threat_id == threats[0].id and event.ip == KANSAS
    assert event.details["from"] == {"ip": BAGHDAD, "country": "IQ"}
    assert event.details["to"] == {"ip": KANSAS, "country": "US"}
    assert 10_000 < event.details["km"] < 12_000 and event.details["km_per_hour"] > 900


async def test_same_country_private_addresses_and_no_database_are_never_flagged(
    ctx: AppContext, geoip_db: str
) -> None:
    settings = ctx.settings.model_copy(update={"geoip_db": geoip_db})
    email = demo("accountant", 2)
    # Baghdad -> Basra in seconds is fast but inside one country; a private address is unplaced.
    for ip in (BAGHDAD, BASRA, "10.1.2.3", KANSAS):
        await _login(ctx, settings, email, ip)
    assert await _travel(ctx, email) == ([], [])
    # Without a database the detector does not watch (and says so).
    other = demo("hr_manager", 2)
    for ip in (BAGHDAD, KANSAS):
        await _login(ctx, ctx.settings, other, ip)
    assert await _travel(ctx, other) == ([], [])
    assert detector_states(settings)["impossible_travel"] == "active"
    assert detector_states(ctx.settings)["impossible_travel"] == "unavailable"
