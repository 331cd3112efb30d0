"""The finance office (the Accounting app): chart maintenance, manual entries and reversals,
statements, receivables, bank reconciliation, tax returns and the month-end checklist.

It sits at the top of the domain because it reads every other context (sales invoices, POS
sessions, payroll, customers, products). The ledger core it builds on - chart, posting,
balances, periods, rates - stays in `tsh.domain.accounting`, which the selling contexts post
through and which therefore imports none of them.
"""
