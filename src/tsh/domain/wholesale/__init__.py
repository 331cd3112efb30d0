"""Wholesale: credit-limit requests of wholesale accounts (the account itself is a Customer)."""
