"""Accounting: chart of accounts, journals and entries, bank reconciliation, tax, periods, exchange rates."""
