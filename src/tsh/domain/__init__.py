"""The ERP: one package per bounded context (models, queries, rules, events). No HTTP here."""
