"""Iraqi names, places and shop names in Arabic and English (parallel lists, same index = same name)."""

from __future__ import annotations

import random
from typing import Any

MALE = (
    ("Ali", "علي"),
    ("Hussein", "حسين"),
    ("Mohammed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Haider", "حيدر"),
    ("Mustafa", "مصطفى"),
    ("Abbas", "عباس"),
    ("Hassan", "حسن"),
    ("Omar", "عمر"),
    ("Karrar", "كرار"),
    ("Murtadha", "مرتضى"),
    ("Sajjad", "سجاد"),
    ("Yasser", "ياسر"),
    ("Zaid", "زيد"),
    ("Muntadher", "منتظر"),
    ("Ammar", "عمار"),
    ("Saif", "سيف"),
    ("Laith", "ليث"),
    ("Firas", "فراس"),
    ("Qasim", "قاسم"),
    ("Hamza", "حمزة"),
    ("Bilal", "بلال"),
    ("Yousif", "يوسف"),
    ("Ibrahim", "إبراهيم"),
    ("Khalid", "خالد"),
    ("Raad", "رعد"),
    ("Salam", "سلام"),
    ("Wisam", "وسام"),
    ("Nawaf", "نواف"),
    ("Aras", "آراس"),
    ("Karwan", "كاروان"),
    ("Dilshad", "دلشاد"),
    ("Rebwar", "ريبوار"),
    ("Sarkawt", "سركوت"),
    ("Hiwa", "هيوا"),
)
FEMALE = (
    ("Zainab", "زينب"),
    ("Fatima", "فاطمة"),
    ("Maryam", "مريم"),
    ("Noor", "نور"),
    ("Sara", "سارة"),
    ("Huda", "هدى"),
    ("Rusul", "رسل"),
    ("Ayat", "آيات"),
    ("Duaa", "دعاء"),
    ("Shahad", "شهد"),
    ("Rana", "رنا"),
    ("Hiba", "هبة"),
    ("Ban", "بان"),
    ("Tabarak", "تبارك"),
    ("Zahraa", "زهراء"),
    ("Lana", "لانا"),
    ("Shilan", "شيلان"),
    ("Avin", "آفين"),
    ("Dilan", "ديلان"),
    ("Hana", "هناء"),
)
FAMILY = (
    ("Al-Saadi", "الساعدي"),
    ("Al-Tamimi", "التميمي"),
    ("Al-Obaidi", "العبيدي"),
    ("Al-Jubouri", "الجبوري"),
    ("Al-Dulaimi", "الدليمي"),
    ("Al-Rubaie", "الربيعي"),
    ("Al-Hashimi", "الهاشمي"),
    ("Al-Maliki", "المالكي"),
    ("Al-Khafaji", "الخفاجي"),
    ("Al-Shammari", "الشمري"),
    ("Al-Zubaidi", "الزبيدي"),
    ("Al-Bayati", "البياتي"),
    ("Al-Musawi", "الموسوي"),
    ("Al-Hakim", "الحكيم"),
    ("Al-Ani", "العاني"),
    ("Al-Kubaisi", "الكبيسي"),
    ("Al-Asadi", "الأسدي"),
    ("Al-Kinani", "الكناني"),
    ("Al-Lami", "اللامي"),
    ("Al-Fartousi", "الفرطوسي"),
    ("Al-Bahadli", "البهادلي"),
    ("Al-Mousawi", "الموسوي"),
    ("Al-Sudani", "السوداني"),
    ("Al-Attar", "العطار"),
    ("Barzani", "بارزاني"),
    ("Talabani", "طالباني"),
    ("Kareem", "كريم"),
    ("Hamad", "حمد"),
    ("Jasim", "جاسم"),
    ("Rashid", "رشيد"),
    ("Al-Basri", "البصري"),
)

CITIES: dict[str, dict[str, Any]] = {
    "Baghdad": {"ar": "بغداد", "lat": 33.3152, "lng": 44.3661},
    "Basra": {"ar": "البصرة", "lat": 30.5085, "lng": 47.7804},
    "Erbil": {"ar": "أربيل", "lat": 36.1911, "lng": 44.0092},
}
DISTRICTS = {
    "Baghdad": (
        "Karrada",
        "Mansour",
        "Adhamiya",
        "Kadhimiya",
        "Zayouna",
        "Palestine Street",
        "Jadriya",
        "Amiriya",
        "Dora",
        "Yarmouk",
        "Harthiya",
        "Bab Al-Sharqi",
        "New Baghdad",
        "Ghazaliya",
    ),
    "Basra": (
        "Ashar",
        "Al-Jazair",
        "Al-Jumhuriya",
        "Al-Maqal",
        "Abu Al-Khaseeb",
        "Al-Tuwaisa",
        "Al-Abbasiya",
        "Al-Jubaila",
        "Al-Hayyaniya",
        "Al-Zubair",
    ),
    "Erbil": (
        "Ankawa",
        "Qaysari",
        "Dream City",
        "100m Street",
        "Italian Village",
        "Empire World",
        "Naz City",
        "Azadi",
        "Sarbasti",
        "Bakhtiyari",
    ),
}
STREETS = (
    "Street 52",
    "Al-Rasheed Street",
    "Street 14",
    "Al-Saadoun Street",
    "14 Ramadan Street",
    "Street 62",
    "Al-Kuwait Street",
    "Al-Istiqlal Street",
    "Gulan Street",
    "60m Street",
    "Street 9",
)
LANDMARKS = (
    "near the mosque",
    "opposite the pharmacy",
    "next to Al-Rafidain Bank",
    "behind the school",
    "near the roundabout",
    "beside the bakery",
    "near the mall",
    "opposite the park",
)

SHOP_WORDS = (
    ("Al-Noor", "النور"),
    ("Al-Amal", "الأمل"),
    ("Al-Rafidain", "الرافدين"),
    ("Dijla", "دجلة"),
    ("Al-Furat", "الفرات"),
    ("Babil", "بابل"),
    ("Sumer", "سومر"),
    ("Al-Hadi", "الهادي"),
    ("Al-Zahraa", "الزهراء"),
    ("Al-Waha", "الواحة"),
    ("Al-Safwa", "الصفوة"),
    ("Al-Mustaqbal", "المستقبل"),
    ("Al-Rawda", "الروضة"),
    ("Kurdistan", "كردستان"),
    ("Shatt Al-Arab", "شط العرب"),
    ("Al-Sindbad", "السندباد"),
    ("Ishtar", "عشتار"),
    ("Al-Jawhara", "الجوهرة"),
    ("Al-Bareeq", "البريق"),
    ("Al-Najma", "النجمة"),
)
SHOP_KINDS = (
    ("Mobile Store", "للموبايل"),
    ("Electronics", "للإلكترونيات"),
    ("Home Appliances", "للأجهزة المنزلية"),
    ("Phones & Accessories", "للهواتف والإكسسوارات"),
    ("Trading Co.", "للتجارة العامة"),
    ("Center", "سنتر"),
)


_AR = {en: ar for en, ar in (*MALE, *FEMALE, *FAMILY)} | {"Kareem": "كريم"}


def arabic(name_en: str) -> str:
    """Arabic spelling of a name made of the words above."""
    return " ".join(_AR.get(part, part) for part in name_en.split(" "))


def person(rng: random.Random, *, female_share: float = 0.25) -> tuple[str, str]:
    """(English name, Arabic name) of a person: first name and family name."""
    first = rng.choice(FEMALE) if rng.random() < female_share else rng.choice(MALE)
    family = rng.choice(FAMILY)
    return f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"


def shop(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(SHOP_WORDS)
    kind = rng.choice(SHOP_KINDS)
    return f"{word[0]} {kind[0]}", f"{word[1]} {kind[1]}" if kind[1] != "سنتر" else f"سنتر {word[1]}"


def phone(n: int) -> str:
    """A unique Iraqi mobile number per n (Asiacell 077x, Zain 078x, Korek 075x)."""
    prefix = ("77", "78", "75")[n % 3]
    return f"+964{prefix}{n:08d}"
