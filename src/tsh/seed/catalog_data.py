"""What the distributor sells: categories, brands, models, variants, cost ranges and specs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

TOPS = (
    ("phones", "Mobile Phones & Tablets", "الهواتف والأجهزة اللوحية"),
    ("accessories", "Mobile Accessories", "إكسسوارات الهواتف"),
    ("tv", "TVs & Audio", "التلفزيونات والصوتيات"),
    ("small", "Small Appliances", "الأجهزة المنزلية الصغيرة"),
    ("climate", "Cooling & Heating", "التبريد والتدفئة"),
    ("computers", "Computers & Networking", "الحاسبات والشبكات"),
)

COLORS = [
    ("Black", "أسود"),
    ("Blue", "أزرق"),
    ("Silver", "فضي"),
    ("Green", "أخضر"),
    ("White", "أبيض"),
    ("Gold", "ذهبي"),
    ("Purple", "بنفسجي"),
    ("Gray", "رمادي"),
]

BRAND_AR = {
    "Samsung": "سامسونج",
    "Apple": "أبل",
    "Xiaomi": "شاومي",
    "Huawei": "هواوي",
    "Oppo": "أوبو",
    "Realme": "ريلمي",
    "Honor": "هونر",
    "Infinix": "إنفينكس",
    "Tecno": "تكنو",
    "Nokia": "نوكيا",
    "Itel": "آيتل",
    "Lenovo": "لينوفو",
    "Anker": "أنكر",
    "Baseus": "باسيوس",
    "Ugreen": "يوجرين",
    "Spigen": "سبايجن",
    "JBL": "جي بي إل",
    "Sony": "سوني",
    "Amazfit": "أمازفيت",
    "LG": "إل جي",
    "TCL": "تي سي إل",
    "Hisense": "هايسنس",
    "Philips": "فيليبس",
    "Moulinex": "مولينكس",
    "Kenwood": "كينوود",
    "Braun": "براون",
    "Tefal": "تيفال",
    "DeLonghi": "ديلونجي",
    "Black+Decker": "بلاك آند ديكر",
    "Gree": "جري",
    "Midea": "ميديا",
    "Haier": "هاير",
    "HP": "إتش بي",
    "ASUS": "أسوس",
    "Dell": "ديل",
    "TP-Link": "تي بي لينك",
    "Tenda": "تندا",
    "SanDisk": "سانديسك",
    "Kingston": "كينغستون",
    "Starsat": "ستارسات",
    "Echolink": "إيكولينك",
    "Geant": "جيان",
}
# GS1 prefixes by the brand's home country (the check digit is computed, so every code is valid).
BRAND_PREFIX = {
    "Samsung": "880",
    "LG": "880",
    "Apple": "190",
    "Sony": "454",
    "Philips": "871",
    "Braun": "400",
    "Tefal": "304",
    "Moulinex": "304",
    "Nokia": "643",
    "DeLonghi": "804",
    "Kenwood": "501",
    "HP": "194",
    "Dell": "884",
    "SanDisk": "619",
    "Kingston": "740",
    "Black+Decker": "501",
    "JBL": "605",
}


def _storage(*options: tuple[str, str]) -> list[tuple[str, str, Decimal]]:
    return [(en, en.replace("GB", " جيجا").replace("TB", " تيرا"), Decimal(m)) for en, m in options]


def _phone_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "screen": f"{rng.choice(['6.1', '6.5', '6.6', '6.7', '6.8'])} in",
        "ram": f"{rng.choice([4, 6, 8, 12])} GB",
        "storage": variant.split(" ")[0] or "64GB",
        "battery": f"{rng.choice([4000, 4500, 5000, 6000])} mAh",
        "camera": f"{rng.choice([13, 48, 50, 108, 200])} MP",
        "sim": "Dual SIM",
        "network": "4G/5G",
    }


def _tv_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "size": model.split('"')[0] + " in",
        "resolution": "4K UHD" if "32" not in model else "HD",
        "smart_tv": True,
        "hdmi_ports": rng.choice([2, 3, 4]),
        "refresh_rate": f"{rng.choice([50, 60, 120])} Hz",
        "voltage": "220-240 V",
    }


def _appliance_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "power": f"{rng.choice([600, 800, 1000, 1500, 1800, 2000, 2200])} W",
        "voltage": "220-240 V",
        "plug": "UK 3-pin",
        "color": variant or "White",
    }


def _ac_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "capacity": model.split(" ")[0] + " ton",
        "inverter": "Inverter" in model,
        "cooling_btu": {"1": 12000, "1.5": 18000, "2": 24000}.get(model.split(" ")[0], 18000),
        "refrigerant": "R410A",
        "max_ambient": "52 °C",
        "voltage": "220-240 V",
    }


def _accessory_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "compatibility": rng.choice(["Universal", "USB-C devices", "iPhone", "Android"]),
        "color": variant or "Black",
        "material": rng.choice(["Plastic", "Aluminium", "Nylon braided", "TPU"]),
    }


def _computer_specs(rng: random.Random, model: str, variant: str) -> dict[str, Any]:
    return {
        "cpu": rng.choice(["Intel Core i3", "Intel Core i5", "Intel Core i7", "AMD Ryzen 5", "Apple M2"]),
        "ram": variant.split("/")[0] if "/" in variant else "8GB",
        "screen": "15.6 in",
        "os": "Windows 11",
    }


@dataclass(frozen=True)
class SubSpec:
    key: str
    top: str
    en: str
    ar: str
    noun_ar: str
    sku: str
    weight: float
    kind: str  # phone | accessory | big | appliance (drives quantities)
    brands: list[str]
    models: dict[str, list[str]]
    cost: tuple[float, float]
    serialised: bool
    warranty: int
    pack: int
    specs: Callable[[random.Random, str, str], dict[str, Any]]
    blurb: str
    storages: list[tuple[str, str, Decimal]] = field(default_factory=list)
    colored: bool = False
    luxury_from: int | None = None


PHONE_STORAGE = _storage(("128GB", "1"), ("256GB", "1.18"), ("64GB", "0.88"), ("512GB", "1.4"))
SUBCATEGORIES: list[SubSpec] = [
    SubSpec(
        "smartphones",
        "phones",
        "Smartphones",
        "هواتف ذكية",
        "هاتف",
        "PHN",
        9,
        "phone",
        ["Samsung", "Apple", "Xiaomi", "Oppo", "Realme", "Honor", "Infinix", "Tecno", "Huawei"],
        {
            "Samsung": [
                "Galaxy A15",
                "Galaxy A25",
                "Galaxy A35",
                "Galaxy A55",
                "Galaxy S24",
                "Galaxy S24 Ultra",
            ],
            "Apple": [
                "iPhone 13",
                "iPhone 14",
                "iPhone 15",
                "iPhone 15 Pro",
                "iPhone 16",
                "iPhone 16 Pro Max",
            ],
            "Xiaomi": ["Redmi 13C", "Redmi Note 13", "Redmi Note 13 Pro", "Xiaomi 14T"],
            "Oppo": ["A38", "A78", "Reno 11"],
            "Realme": ["C55", "C67", "12 Pro"],
            "Honor": ["X7b", "X8b", "200"],
            "Infinix": ["Hot 40", "Note 40", "Smart 8"],
            "Tecno": ["Spark 20", "Camon 30", "Pova 6"],
            "Huawei": ["nova 12", "nova Y72"],
        },
        (140_000, 1_150_000),
        True,
        12,
        10,
        _phone_specs,
        "Official Iraqi version with dual SIM.",
        PHONE_STORAGE,
        True,
        1_300_000,
    ),
    SubSpec(
        "feature_phones",
        "phones",
        "Feature Phones",
        "هواتف عادية",
        "هاتف",
        "FPH",
        1.2,
        "phone",
        ["Nokia", "Itel"],
        {"Nokia": ["105", "110 4G", "3310", "225 4G"], "Itel": ["it2160", "it5626", "Magic X"]},
        (14_000, 55_000),
        True,
        12,
        20,
        _phone_specs,
        "Long battery life, FM radio and torch.",
        [],
        True,
    ),
    SubSpec(
        "tablets",
        "phones",
        "Tablets",
        "أجهزة لوحية",
        "جهاز لوحي",
        "TAB",
        2,
        "phone",
        ["Samsung", "Apple", "Xiaomi", "Lenovo"],
        {
            "Samsung": ["Galaxy Tab A9", "Galaxy Tab A9+", "Galaxy Tab S9 FE"],
            "Apple": ["iPad 10th Gen", "iPad Air"],
            "Xiaomi": ["Redmi Pad SE", "Pad 6"],
            "Lenovo": ["Tab M10", "Tab M11"],
        },
        (160_000, 900_000),
        True,
        12,
        10,
        _phone_specs,
        "Wi-Fi and LTE models.",
        PHONE_STORAGE[:3],
        True,
        1_300_000,
    ),
    SubSpec(
        "chargers",
        "accessories",
        "Chargers & Cables",
        "شواحن وكابلات",
        "شاحن",
        "CHG",
        6,
        "accessory",
        ["Anker", "Baseus", "Ugreen", "Samsung", "Apple"],
        {
            b: [
                "20W USB-C Charger",
                "25W Fast Charger",
                "65W GaN Charger",
                "USB-C Cable 1m",
                "USB-C Cable 2m",
                "Lightning Cable 1m",
                "Car Charger 38W",
                "Wireless Charging Pad 15W",
            ]
            for b in ["Anker", "Baseus", "Ugreen", "Samsung", "Apple"]
        },
        (4_000, 45_000),
        False,
        6,
        50,
        _accessory_specs,
        "Certified fast charging.",
        [],
        True,
    ),
    SubSpec(
        "powerbanks",
        "accessories",
        "Power Banks",
        "بطاريات متنقلة",
        "باور بانك",
        "PWB",
        2.5,
        "accessory",
        ["Anker", "Baseus", "Xiaomi", "Ugreen"],
        {
            b: ["10000mAh 20W", "20000mAh 22.5W", "30000mAh 65W", "MagSafe 5000mAh"]
            for b in ["Anker", "Baseus", "Xiaomi", "Ugreen"]
        },
        (15_000, 70_000),
        False,
        6,
        20,
        _accessory_specs,
        "Power delivery for phones and tablets.",
        [],
        True,
    ),
    SubSpec(
        "cases",
        "accessories",
        "Cases & Screen Protectors",
        "أغطية وواقيات شاشة",
        "غطاء",
        "CAS",
        5,
        "accessory",
        ["Spigen", "Baseus", "Samsung"],
        {
            b: [
                f"{kind} for {m}"
                for m in ("Galaxy A15", "Galaxy A55", "Galaxy S24", "iPhone 15", "iPhone 16", "Redmi Note 13")
                for kind in ("Clear Case", "Rugged Case", "Tempered Glass")
            ]
            for b in ["Spigen", "Baseus", "Samsung"]
        },
        (2_500, 25_000),
        False,
        0,
        50,
        _accessory_specs,
        "Precise cut-outs and drop protection.",
        [],
        True,
    ),
    SubSpec(
        "earbuds",
        "accessories",
        "Headphones & Earbuds",
        "سماعات",
        "سماعة",
        "AUD",
        4,
        "accessory",
        ["JBL", "Samsung", "Apple", "Sony", "Anker", "Xiaomi"],
        {
            "JBL": ["Tune 520BT", "Wave Buds", "Tune Flex"],
            "Samsung": ["Galaxy Buds FE", "Galaxy Buds2 Pro"],
            "Apple": ["AirPods 2nd Gen", "AirPods Pro 2"],
            "Sony": ["WH-1000XM5", "WF-C700N"],
            "Anker": ["Soundcore Life P3", "Soundcore R50i"],
            "Xiaomi": ["Redmi Buds 5", "Redmi Buds 5 Pro"],
        },
        (12_000, 420_000),
        False,
        6,
        20,
        _accessory_specs,
        "Bluetooth 5.3 with charging case.",
        [],
        True,
    ),
    SubSpec(
        "watches",
        "accessories",
        "Smart Watches",
        "ساعات ذكية",
        "ساعة ذكية",
        "WCH",
        2,
        "phone",
        ["Apple", "Samsung", "Huawei", "Xiaomi", "Amazfit"],
        {
            "Apple": ["Watch SE 40mm", "Watch Series 9 45mm"],
            "Samsung": ["Galaxy Watch6", "Galaxy Watch FE"],
            "Huawei": ["Watch Fit 3", "Band 9"],
            "Xiaomi": ["Redmi Watch 4", "Smart Band 8"],
            "Amazfit": ["Bip 5", "GTR 4"],
        },
        (30_000, 520_000),
        True,
        12,
        10,
        _accessory_specs,
        "Heart rate, SpO2 and GPS tracking.",
        [],
        True,
    ),
    SubSpec(
        "tvs",
        "tv",
        "Televisions",
        "تلفزيونات",
        "تلفزيون",
        "TVS",
        4,
        "big",
        ["Samsung", "LG", "TCL", "Hisense", "Sony"],
        {
            b: ['32" HD Smart', '43" Crystal UHD', '50" 4K UHD', '55" QLED 4K', '65" QLED 4K', '75" 4K UHD']
            for b in ["Samsung", "LG", "TCL", "Hisense", "Sony"]
        },
        (170_000, 1_900_000),
        True,
        24,
        1,
        _tv_specs,
        "Built-in receiver, Netflix and YouTube.",
        [],
        False,
        1_200_000,
    ),
    SubSpec(
        "speakers",
        "tv",
        "Soundbars & Speakers",
        "مكبرات الصوت",
        "مكبر صوت",
        "SPK",
        2,
        "appliance",
        ["JBL", "Sony", "Samsung", "LG"],
        {
            "JBL": ["Flip 6", "Charge 5", "Go 3", "PartyBox 110"],
            "Sony": ["SRS-XB100", "SRS-XE200"],
            "Samsung": ["HW-B550 Soundbar", "HW-Q600C Soundbar"],
            "LG": ["S40Q Soundbar", "XBOOM Go XG2"],
        },
        (35_000, 650_000),
        True,
        12,
        4,
        _appliance_specs,
        "Deep bass and Bluetooth streaming.",
        [],
        True,
    ),
    SubSpec(
        "tv_accessories",
        "tv",
        "TV Mounts & Accessories",
        "حوامل وملحقات التلفزيون",
        "ملحق تلفزيون",
        "TVA",
        2,
        "accessory",
        ["Xiaomi", "Ugreen", "Baseus"],
        {
            b: [
                "Wall Mount 32-55in",
                "Wall Mount 55-85in",
                "HDMI 2.1 Cable 2m",
                "Universal Remote",
                "TV Stick 4K",
            ]
            for b in ["Xiaomi", "Ugreen", "Baseus"]
        },
        (6_000, 85_000),
        False,
        6,
        20,
        _accessory_specs,
        "Fits most TV brands.",
        [],
        False,
    ),
    SubSpec(
        "receivers",
        "tv",
        "Satellite Receivers",
        "أجهزة الاستقبال",
        "رسيفر",
        "RCV",
        1.5,
        "appliance",
        ["Starsat", "Echolink", "Geant"],
        {
            b: ["SR-4080 HD", "SR-X95 Extreme 4K", "Fire HD", "Android 4K Box"]
            for b in ["Starsat", "Echolink", "Geant"]
        },
        (25_000, 140_000),
        True,
        12,
        10,
        _appliance_specs,
        "Nilesat and Arabsat ready.",
        [],
        False,
    ),
    SubSpec(
        "blenders",
        "small",
        "Blenders & Food Processors",
        "خلاطات ومحضرات طعام",
        "خلاط",
        "BLD",
        2,
        "appliance",
        ["Moulinex", "Kenwood", "Philips", "Braun"],
        {
            "Moulinex": ["Blendforce 2", "Genuine 600W"],
            "Kenwood": ["BLP41 Blender", "FDP65 Food Processor"],
            "Philips": ["HR2041 Blender", "HR7320 Food Processor"],
            "Braun": ["MQ 5 Hand Blender", "JB 3060"],
        },
        (30_000, 260_000),
        False,
        12,
        4,
        _appliance_specs,
        "Stainless steel blades, easy to clean.",
        [],
        True,
    ),
    SubSpec(
        "kettles",
        "small",
        "Kettles & Coffee Makers",
        "غلايات وماكينات قهوة",
        "غلاية",
        "KTL",
        2,
        "appliance",
        ["Philips", "Tefal", "DeLonghi", "Kenwood"],
        {
            "Philips": ["HD9350 Kettle 1.7L", "HD7462 Coffee Maker"],
            "Tefal": ["Express Kettle 1.5L", "Vitesse 1.7L"],
            "DeLonghi": ["Dedica EC685", "Icona Kettle"],
            "Kenwood": ["ZJP Kettle 1.7L", "CMM Coffee Maker"],
        },
        (18_000, 420_000),
        False,
        12,
        6,
        _appliance_specs,
        "Auto shut-off and boil-dry protection.",
        [],
        True,
    ),
    SubSpec(
        "airfryers",
        "small",
        "Air Fryers & Ovens",
        "قلايات هوائية وأفران",
        "قلاية",
        "AFR",
        3,
        "appliance",
        ["Philips", "Tefal", "Xiaomi", "Moulinex", "Black+Decker"],
        {
            "Philips": ["Airfryer 3000 4.1L", "Airfryer XXL 7.2L"],
            "Tefal": ["Easy Fry 4.2L", "Easy Fry Grill XXL"],
            "Xiaomi": ["Smart Air Fryer 6.5L"],
            "Moulinex": ["Easy Fry Max 5L"],
            "Black+Decker": ["Toaster Oven 35L", "Air Fryer 5.5L"],
        },
        (55_000, 340_000),
        False,
        12,
        2,
        _appliance_specs,
        "Up to 90% less fat.",
        [],
        False,
    ),
    SubSpec(
        "irons",
        "small",
        "Irons & Steamers",
        "مكاوي وأجهزة بخار",
        "مكواة",
        "IRN",
        1.5,
        "appliance",
        ["Philips", "Tefal", "Braun"],
        {
            "Philips": ["GC1750 Steam Iron", "STH3020 Steamer"],
            "Tefal": ["FV2845 Express Steam", "Access Steam"],
            "Braun": ["TexStyle 5", "CareStyle Compact"],
        },
        (20_000, 230_000),
        False,
        12,
        6,
        _appliance_specs,
        "Anti-calc and vertical steam.",
        [],
        True,
    ),
    SubSpec(
        "vacuums",
        "small",
        "Vacuum Cleaners",
        "مكانس كهربائية",
        "مكنسة",
        "VAC",
        1.5,
        "appliance",
        ["Philips", "Samsung", "LG", "Xiaomi"],
        {
            "Philips": ["PowerPro 2000W", "SpeedPro Cordless"],
            "Samsung": ["VC20M Bagless", "Jet 60 Cordless"],
            "LG": ["VC5420 Canister", "CordZero A9"],
            "Xiaomi": ["Robot Vacuum S10", "Vacuum G10"],
        },
        (60_000, 650_000),
        True,
        12,
        2,
        _appliance_specs,
        "HEPA filtration.",
        [],
        False,
    ),
    SubSpec(
        "ac",
        "climate",
        "Air Conditioners",
        "مكيفات الهواء",
        "مكيف",
        "ACS",
        3,
        "big",
        ["Gree", "LG", "Midea", "Haier", "Samsung"],
        {
            b: [
                "1 ton Split",
                "1.5 ton Split Inverter",
                "2 ton Split Inverter",
                "1.5 ton Split",
                "2 ton Split",
            ]
            for b in ["Gree", "LG", "Midea", "Haier", "Samsung"]
        },
        (420_000, 1_250_000),
        True,
        36,
        1,
        _ac_specs,
        "Tropical compressor rated for 52 °C summers.",
        [],
        False,
        1_100_000,
    ),
    SubSpec(
        "fans",
        "climate",
        "Fans & Air Coolers",
        "مراوح ومبردات هواء",
        "مروحة",
        "FAN",
        2,
        "appliance",
        ["Midea", "Black+Decker", "Kenwood"],
        {
            b: ["Stand Fan 16in", "Ceiling Fan 56in", "Air Cooler 40L", "Tower Fan", "Rechargeable Fan"]
            for b in ["Midea", "Black+Decker", "Kenwood"]
        },
        (28_000, 260_000),
        False,
        12,
        2,
        _appliance_specs,
        "Quiet motor with remote control.",
        [],
        False,
    ),
    SubSpec(
        "heaters",
        "climate",
        "Heaters",
        "مدافئ",
        "مدفأة",
        "HTR",
        1.5,
        "appliance",
        ["DeLonghi", "Midea", "Black+Decker"],
        {
            b: ["Oil Heater 11 Fins", "Fan Heater 2000W", "Halogen Heater", "Gas Heater"]
            for b in ["DeLonghi", "Midea", "Black+Decker"]
        },
        (35_000, 240_000),
        False,
        12,
        2,
        _appliance_specs,
        "Thermostat and tip-over protection.",
        [],
        False,
    ),
    SubSpec(
        "laptops",
        "computers",
        "Laptops",
        "حاسبات محمولة",
        "لابتوب",
        "LAP",
        1.5,
        "big",
        ["Lenovo", "HP", "ASUS", "Dell", "Apple"],
        {
            "Lenovo": ["IdeaPad 3", "IdeaPad Slim 5"],
            "HP": ["15s", "Victus 15"],
            "ASUS": ["Vivobook 15", "TUF F15"],
            "Dell": ["Inspiron 15", "Vostro 3520"],
            "Apple": ["MacBook Air M2", "MacBook Air M3"],
        },
        (420_000, 1_800_000),
        True,
        12,
        1,
        _computer_specs,
        "Genuine Windows or macOS.",
        _storage(("8GB/256GB", "1"), ("8GB/512GB", "1.12"), ("16GB/512GB", "1.3")),
        False,
        1_300_000,
    ),
    SubSpec(
        "networking",
        "computers",
        "Routers & Networking",
        "الراوترات والشبكات",
        "راوتر",
        "NET",
        1.5,
        "appliance",
        ["TP-Link", "Huawei", "Tenda"],
        {
            "TP-Link": ["Archer C6", "Deco M4 (2-pack)", "TL-WR840N", "Archer AX23"],
            "Huawei": ["B311 4G Router", "AX3 Wi-Fi 6"],
            "Tenda": ["F3 N300", "Nova MW6"],
        },
        (15_000, 180_000),
        True,
        12,
        10,
        _appliance_specs,
        "Easy setup with mobile app.",
        [],
        False,
    ),
    SubSpec(
        "storage",
        "computers",
        "Memory Cards & Storage",
        "بطاقات الذاكرة والتخزين",
        "وحدة تخزين",
        "STO",
        2,
        "accessory",
        ["SanDisk", "Kingston", "Samsung"],
        {
            b: [
                "microSD 64GB",
                "microSD 128GB",
                "USB 3.2 Flash 64GB",
                "USB 3.2 Flash 128GB",
                "Portable SSD 1TB",
            ]
            for b in ["SanDisk", "Kingston", "Samsung"]
        },
        (5_000, 150_000),
        False,
        24,
        50,
        _accessory_specs,
        "High-speed transfer.",
        [],
        False,
    ),
]
