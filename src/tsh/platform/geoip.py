"""Where an IP address is, from a MaxMind-format geo-IP database (TSH_GEOIP_DB).

Read with `maxminddb` (MaxMind's maintained reader; GeoLite2-City, GeoIP2-City or any database
with `country.iso_code` and `location.latitude/longitude`). No database is shipped or downloaded:
without the setting, `locator` is None and the impossible-travel detector reports `unavailable`.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import maxminddb

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Place:
    country: str
    latitude: float
    longitude: float

    def km_to(self, other: Place) -> float:
        """Great-circle distance (haversine)."""
        lat1, lat2 = math.radians(self.latitude), math.radians(other.latitude)
        dlat, dlon = lat2 - lat1, math.radians(other.longitude - self.longitude)
        h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


class Locator:
    def __init__(self, path: str) -> None:
        self._reader = maxminddb.open_database(path)

    def place(self, ip: str | None) -> Place | None:
        """The country and coordinates of `ip`; None for a private, unknown or malformed address."""
        if not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if not address.is_global:
            return None
        try:
            record: Any = self._reader.get(address)
        except ValueError:  # an IPv6 address in an IPv4-only database
            return None
        if not isinstance(record, dict):
            return None
        country = (record.get("country") or {}).get("iso_code")
        location = record.get("location") or {}
        lat, lon = location.get("latitude"), location.get("longitude")
        if not country or lat is None or lon is None:
            return None
        return Place(str(country), float(lat), float(lon))


@lru_cache(maxsize=4)
def locator(path: str | None) -> Locator | None:
    """One reader per database file and process (the reader memory-maps the file)."""
    return Locator(path) if path else None
