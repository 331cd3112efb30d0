"""Administration of the company's structure: branches, their warehouses, limits and delivery
zones, as the Admin app changes and shows them. It sits above the contexts it checks (open POS
shifts, stock on hand, open transfers and reservations, staff), so those never import it."""
