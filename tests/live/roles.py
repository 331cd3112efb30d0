"""The demo role that uses each tag's operations (one tag per app, plus the shared ones)."""

ROLE_OF_TAG = {
    "admin": "admin",
    "security": "security_officer",
    "accounting": "accountant",
    "hr": "hr_manager",
    "inventory": "inventory_manager",
    "salesperson": "salesperson",
    "pos": "cashier",
    "partner": "partner",
    "wholesale": "wholesale_client",
    "consumer": "consumer",
    "aso": "service_agent",
    "mobile": "salesperson",
    "auth": "consumer",
}
# The legacy resources (one tag per resource) are the admin's.
LEGACY_ROLE = "admin"
