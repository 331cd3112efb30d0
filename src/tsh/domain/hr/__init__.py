"""HR: departments, employees, attendance, leave, payroll and performance reviews (domain.md §9)."""
