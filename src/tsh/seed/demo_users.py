"""The demo logins: two users per role (`<role>1` in Baghdad, `<role>2` in Basra), password demo1234."""

from __future__ import annotations

from tsh.domain.identity.rbac import ROLES

DEMO_PASSWORD = "demo1234"
DEMO_DOMAIN = "demo.tsh.iq"

# role -> (name of user 1, name of user 2)
NAMES: dict[str, tuple[str, str]] = {
    "admin": ("Kareem Al-Hashimi", "Noor Al-Basri"),
    "security_officer": ("Laith Al-Ani", "Rana Al-Tamimi"),
    "accountant": ("Huda Al-Rubaie", "Qasim Al-Maliki"),
    "hr_manager": ("Maryam Al-Khafaji", "Salam Al-Asadi"),
    "employee": ("Omar Al-Jubouri", "Zahraa Al-Lami"),
    "inventory_manager": ("Firas Al-Dulaimi", "Ammar Al-Kinani"),
    "warehouse_staff": ("Sajjad Al-Bahadli", "Murtadha Al-Fartousi"),
    "salesperson": ("Haider Al-Saadi", "Mustafa Al-Obaidi"),
    "cashier": ("Zainab Al-Zubaidi", "Duaa Al-Shammari"),
    "branch_manager": ("Ahmed Al-Hakim", "Yasser Al-Musawi"),
    "partner": ("Raad Jasim", "Wisam Hamad"),
    "wholesale_client": ("Khalid Al-Kubaisi", "Ibrahim Al-Attar"),
    "technician": ("Karrar Al-Bayati", "Hamza Al-Sudani"),
    "service_agent": ("Shahad Al-Asadi", "Ayat Al-Rubaie"),
    "consumer": ("Sara Al-Hashimi", "Ali Al-Tamimi"),
}
BRANCH_OF_INDEX = {1: "BGD", 2: "BSR"}


def demo_email(role: str, index: int) -> str:
    return f"{role}{index}@{DEMO_DOMAIN}"


def demo_users() -> list[tuple[str, int, str, str]]:
    """(role, index, email, name) for the 30 demo users, in role order."""
    return [(r.code, i, demo_email(r.code, i), NAMES[r.code][i - 1]) for r in ROLES for i in (1, 2)]


def demo_logins_text() -> str:
    """The table printed by `tsh run`."""
    rows = [("ROLE", "EMAIL (user 1: Baghdad)", "EMAIL (user 2: Basra)")]
    rows += [(r.code, demo_email(r.code, 1), demo_email(r.code, 2)) for r in ROLES]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["Demo logins (password for every account: " + DEMO_PASSWORD + ")"]
    lines += [
        "  " + "  ".join(c.ljust(wd) for c, wd in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)
