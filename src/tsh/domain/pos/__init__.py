"""POS: terminals, cashier shifts with their cash drawer, and counter sales (domain.md §6)."""
