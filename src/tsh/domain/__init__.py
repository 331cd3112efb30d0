"""The ERP domain: one package per bounded context (see docs/architecture.md for their layers).

Importing the package declares the business error codes, so every entry point (app, CLI, seed,
tests) knows the whole catalogue.
"""

from tsh.domain import error_codes as _error_codes  # noqa: F401  (declares the catalogue)
