"""Consumer app (10): the base router, 37 endpoints under /api/bff/mobile (no app segment).

Importing the package registers every screen group.
"""

from tsh.bff.apps.consumer import (  # noqa: F401
    addresses,
    cart,
    catalog,
    checkout,
    orders,
    profile,
    reviews,
    wishlist,
)
from tsh.bff.apps.consumer.common import app

__all__ = ["app"]
