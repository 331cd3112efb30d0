"""Every mapped class, imported once so the metadata (Alembic, mappers) sees the whole schema."""

from tsh.domain.accounting import models as accounting
from tsh.domain.aftersales import models as aftersales
from tsh.domain.catalog import models as catalog
from tsh.domain.customers import models as customers
from tsh.domain.hr import models as hr
from tsh.domain.identity import models as identity
from tsh.domain.inventory import models as inventory
from tsh.domain.organisation import models as organisation
from tsh.domain.pos import models as pos
from tsh.domain.sales import models as sales
from tsh.domain.sync import models as sync
from tsh.domain.wholesale import models as wholesale
from tsh.platform import idempotency
from tsh.platform.db.base import Base

__all__ = [
    "Base",
    "accounting",
    "aftersales",
    "catalog",
    "customers",
    "hr",
    "idempotency",
    "identity",
    "inventory",
    "organisation",
    "pos",
    "sales",
    "sync",
    "wholesale",
]
