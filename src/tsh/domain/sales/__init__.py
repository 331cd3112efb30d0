"""Sales context: orders, invoices, payments, visits, targets, commissions (models in models.py)."""
