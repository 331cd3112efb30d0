"""Inventory: stock per product and warehouse, movement ledger, receipts, transfers, adjustments, counts."""
