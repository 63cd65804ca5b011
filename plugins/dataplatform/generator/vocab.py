"""Embedded word lists for the demo world: names, domains, categories, listing texts.

Kept as plain data so the generator needs no Faker (not installed, and far too slow per row).
Every list is used by index from numpy, so its order is part of the world's determinism:
append new entries at the end only.
"""

from __future__ import annotations

# (code, currency, share of users). Prices are drawn in PLN and converted for EUR countries.
COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("PL", "PLN", 0.45),
    ("DE", "EUR", 0.25),
    ("FR", "EUR", 0.15),
    ("ES", "EUR", 0.15),
)
CURRENCIES: tuple[str, ...] = ("PLN", "EUR")
PLN_PER_EUR = 4.3


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Names as written (with diacritics); e-mail addresses use ascii_name() of them.
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "PL": _words(
        "Anna Katarzyna Małgorzata Agnieszka Barbara Ewa Zofia Joanna Magdalena "
        "Aleksandra Jan Piotr Krzysztof Tomasz Paweł Michał Łukasz Marcin Grzegorz "
        "Wojciech Jakub Mateusz Bartłomiej Kamil"
    ),
    "DE": _words(
        "Hannah Lea Sophie Anna Jürgen Lukas Maximilian Felix Jonas Leon Sabine Ursula "
        "Günter Stefan Katrin Jörg Mia Emilia Tobias Sebastian Andreas Claudia Björn "
        "Heike"
    ),
    "FR": _words(
        "Camille Léa Chloé Manon Inès Juliette Élodie Nathalie Isabelle Céline Lucas Hugo "
        "Louis Théo Nicolas Julien François Jérôme Antoine Mathieu Sébastien Guillaume "
        "Maxime Étienne"
    ),
    "ES": _words(
        "María Lucía Carmen Laura Marta Paula Sofía Elena Ana Cristina Alejandro Javier "
        "Daniel Pablo José Jesús Sergio Álvaro Adrián Manuel Iñigo Raúl Íker Nuria"
    ),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "PL": _words(
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
        "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Krawczyk Piotrowski "
        "Grabowski Pawłowski Michalski Król Wieczorek Jabłoński Majewski Olszewski"
    ),
    "DE": _words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun "
        "Krüger Hofmann Hartmann"
    ),
    "FR": _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
        "Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard "
        "André Lefèbvre"
    ),
    "ES": _words(
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín "
        "Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro "
        "Torres Domínguez Vázquez"
    ),
}

_TRANSLITERATION = str.maketrans(
    {
        "ą": "a",
        "ć": "c",
        "ę": "e",
        "ł": "l",
        "ń": "n",
        "ó": "o",
        "ś": "s",
        "ź": "z",
        "ż": "z",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "à": "a",
        "â": "a",
        "ç": "c",
        "î": "i",
        "ï": "i",
        "ô": "o",
        "û": "u",
        "ù": "u",
        "á": "a",
        "í": "i",
        "ñ": "n",
        "ú": "u",
    }
)


def ascii_name(name: str) -> str:
    """How people spell their name in an e-mail address: lower case, no diacritics."""
    return name.lower().translate(_TRANSLITERATION)


# (domain, weight) per country; gmail/outlook are shared by everyone.
EMAIL_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "PL": (
        ("gmail.com", 0.40),
        ("wp.pl", 0.20),
        ("onet.pl", 0.15),
        ("o2.pl", 0.10),
        ("interia.pl", 0.10),
        ("outlook.com", 0.05),
    ),
    "DE": (
        ("gmail.com", 0.35),
        ("gmx.de", 0.25),
        ("web.de", 0.20),
        ("t-online.de", 0.12),
        ("outlook.com", 0.08),
    ),
    "FR": (
        ("gmail.com", 0.40),
        ("orange.fr", 0.20),
        ("free.fr", 0.15),
        ("laposte.net", 0.10),
        ("hotmail.fr", 0.10),
        ("outlook.com", 0.05),
    ),
    "ES": (
        ("gmail.com", 0.45),
        ("hotmail.es", 0.25),
        ("yahoo.es", 0.15),
        ("telefonica.net", 0.05),
        ("outlook.com", 0.10),
    ),
}

# Two-level category tree; listings live in leaves only.
PARENT_CATEGORIES: dict[int, str] = {
    1: "Electronics",
    2: "Home & Garden",
    3: "Fashion",
    4: "Vehicles",
    5: "Kids",
    6: "Sports & Hobbies",
}
# Leaves: id, parent id, popularity weight, median asking price in PLN, name; then, indented,
# typical items separated by ";" (they make up titles, descriptions and search queries).
_LEAVES = """
11 1 9 900 Phones
    iPhone 12 128GB; iPhone 13 mini; Samsung Galaxy S21; Xiaomi Redmi Note 11
    Google Pixel 6; Motorola Moto G52
12 1 5 1800 Laptops & Computers
    MacBook Air M1; Lenovo ThinkPad T480; Dell XPS 13; gaming PC RTX 3060; HP EliteBook 840
    Asus ZenBook 14
13 1 4 700 TV & Audio
    Samsung 55 inch TV; LG OLED 48; Sony WH-1000XM4 headphones; JBL Flip 5 speaker
    Bose soundbar; Yamaha AV receiver
14 1 2 1500 Cameras
    Canon EOS 250D; Nikon D3500 kit; Sony A6000 body; GoPro Hero 9; Fujifilm X-T20
    Canon 50mm f/1.8 lens
15 1 5 600 Gaming
    PlayStation 5; Xbox Series S; Nintendo Switch OLED; PS4 Pro 1TB; DualSense controller
    Steam Deck 64GB
21 2 6 450 Furniture
    IKEA Kallax shelf; corner sofa; oak dining table; office chair; wardrobe with mirror
    bed frame 160x200
22 2 3 200 Kitchen
    Thermomix TM6; espresso machine DeLonghi; KitchenAid mixer; set of pans
    microwave Samsung; dishwasher Bosch
23 2 2.5 300 Garden
    lawn mower Stihl; garden furniture set; hedge trimmer; garden grill Weber
    garden hose 30m; greenhouse 3x2
24 2 3 250 Tools
    drill Makita; Bosch cordless screwdriver; angle grinder; tool box set; circular saw
    pressure washer Karcher
25 2 2 80 Decor
    floor lamp; wall mirror; wool rug 160x230; set of frames; ceramic vase; curtains linen
31 3 6 90 Women's Clothing
    winter coat Zara; summer dress; leather jacket; wool sweater; jeans Levi's 501
    evening gown
32 3 4 110 Men's Clothing
    North Face jacket; suit Hugo Boss; hoodie Nike; jeans Wrangler; wool coat
    shirt Tommy Hilfiger
33 3 5 150 Shoes
    Nike Air Max 90; Adidas Ultraboost; Timberland boots; Converse All Star
    Dr. Martens 1460; running shoes Asics
34 3 3 160 Bags & Accessories
    Michael Kors handbag; leather backpack; Ray-Ban sunglasses; wallet Guess
    travel suitcase; silk scarf
35 3 2 500 Watches & Jewellery
    Casio G-Shock; Apple Watch Series 7; silver necklace; gold ring; Garmin Forerunner 245
    Seiko 5 automatic
41 4 3 28000 Cars
    Toyota Corolla 2015; VW Golf VII; Skoda Octavia 2017; Opel Astra 2014; Ford Focus 2016
    BMW 320d 2013
42 4 1 12000 Motorcycles
    Honda CBF 600; Yamaha MT-07; Vespa scooter 125; Kawasaki Z650; KTM Duke 390
    Suzuki SV650
43 4 4 900 Bicycles
    Trek road bike; Kross mountain bike; city bike Romet; e-bike Cube; kids bike 20 inch
    Giant gravel bike
44 4 3 250 Car Parts
    headlights Golf VI; alloy rims 17; car battery Varta; roof box Thule; brake discs set
    child seat isofix
45 4 2 600 Tyres & Wheels
    winter tyres 205/55 R16; summer tyres Michelin; all-season tyres 195/65; steel wheels 15
    Continental tyres 225/45; snow chains
51 5 4 60 Toys
    LEGO Technic set; Playmobil farm; wooden train set; Barbie dreamhouse
    board games bundle; RC car
52 5 3 40 Baby Clothes
    baby clothes bundle 62; winter overall 86; romper set; baby shoes; sleeping bag
    knitted hat set
53 5 2 700 Strollers & Car Seats
    stroller Cybex; car seat Maxi-Cosi; twin stroller; stroller Bugaboo; isofix base
    travel cot
54 5 1.5 300 Children's Furniture
    bunk bed; kids desk; high chair Stokke; toy chest; crib with mattress; changing table
55 5 1 50 School Supplies
    school backpack; calculator Casio; pencil case set; textbooks grade 5; desk lamp; globe
61 6 3 300 Fitness
    dumbbells 2x10kg; treadmill; exercise bike; yoga mat; kettlebell 16kg; rowing machine
62 6 2 500 Winter Sports
    skis Rossignol 170; snowboard Burton; ski boots 27.5; ski helmet; ski jacket
    goggles Oakley
63 6 1.5 250 Camping
    tent 4 person; sleeping bag -10; camping stove; hiking backpack 60L; camping chairs
    inflatable kayak
64 6 3 30 Books
    Harry Potter box set; Witcher books; cookbook collection; fantasy novels
    English textbooks; comics bundle
65 6 1.5 800 Musical Instruments
    acoustic guitar Yamaha; digital piano; electric guitar Fender; violin 4/4; drum kit
    ukulele
"""


def _parse_leaves(table: str) -> tuple[tuple[int, int, float, float, str, tuple[str, ...]], ...]:
    leaves: list[list] = []
    for line in table.strip("\n").splitlines():
        if line.startswith(" "):
            leaves[-1][-1].extend(item.strip() for item in line.split(";") if item.strip())
        else:
            leaf_id, parent_id, popularity, price, name = line.split(" ", 4)
            leaves.append([int(leaf_id), int(parent_id), float(popularity), float(price), name, []])
    return tuple((*leaf[:-1], tuple(leaf[-1])) for leaf in leaves)


# (parent_id, parent name, ((leaf_id, leaf name, popularity, median price PLN, items), ...))
CATEGORY_TREE = tuple(
    (
        parent_id,
        parent_name,
        tuple(
            (leaf_id, name, popularity, price, items)
            for leaf_id, parent, popularity, price, name, items in _parse_leaves(_LEAVES)
            if parent == parent_id
        ),
    )
    for parent_id, parent_name in PARENT_CATEGORIES.items()
)

TITLE_PREFIXES: tuple[str, ...] = ("", "", "", "Used ", "New ", "Like new ", "Selling ", "Cheap ")
TITLE_SUFFIXES: tuple[str, ...] = (
    "",
    "",
    "",
    " – great condition",
    " – urgent",
    " for parts",
    " with box",
    " + extras",
)
DESCRIPTION_OPENERS: tuple[str, ...] = (
    "Selling my {item}.",
    "For sale: {item}.",
    "I have a {item} to sell.",
    "{item}, barely used.",
    "Good {item} looking for a new home.",
)
DESCRIPTION_CONDITIONS: tuple[str, ...] = (
    " Very good condition, no scratches.",
    " Some signs of use, works perfectly.",
    " Like new, used only a few times.",
    " Minor scratches, see photos.",
    " Fully functional, recently serviced.",
    "",
)
DESCRIPTION_LOGISTICS: tuple[str, ...] = (
    " Pickup in person or shipping.",
    " Shipping possible at buyer's cost.",
    " Pickup only, city centre.",
    " Price negotiable.",
    " No exchanges, price is final.",
    " Invoice available.",
    "",
)
QUERY_MODIFIERS: tuple[str, ...] = ("", "", "", "", "used ", "cheap ", "new ", "best ")
QUERY_SUFFIXES: tuple[str, ...] = (
    "",
    "",
    "",
    "",
    " warsaw",
    " berlin",
    " paris",
    " madrid",
    " like new",
    " for parts",
)

# Phrases introducing contact details people write into free text, which redaction must catch.
CONTACT_PHONE_PHRASES: tuple[str, ...] = (
    " Call me: ",
    " tel. ",
    " Phone ",
    " WhatsApp ",
    " Contact: ",
    " sms ",
)
CONTACT_EMAIL_PHRASES: tuple[str, ...] = (" Email: ", " write to ", " mail me at ", " Contact: ")
QUERY_CONTACT_PHRASES: tuple[str, ...] = (" ", " contact ", " tel ")

REFERRERS: tuple[tuple[str | None, float], ...] = (
    (None, 0.45),
    ("https://www.google.com/", 0.28),
    ("https://www.facebook.com/", 0.08),
    ("https://www.instagram.com/", 0.04),
    ("https://www.bing.com/", 0.03),
    ("android-app://com.google.android.gm/", 0.03),
    ("https://t.co/", 0.02),
    ("https://news.example.org/deals?utm_source=newsletter", 0.04),
    ("https://duckduckgo.com/", 0.03),
)

PLATFORMS: tuple[str, ...] = ("web", "ios", "android")
PLATFORM_SHARES: tuple[float, ...] = (0.45, 0.20, 0.35)
# Per platform; web sends no app version.
APP_VERSIONS: dict[str, tuple[str, ...]] = {
    "web": (),
    "ios": ("6.4.0", "6.4.1", "6.5.0", "6.5.2"),
    "android": ("6.3.2", "6.4.0", "6.5.1", "6.5.3"),
}

PROMOTION_PRODUCTS: tuple[str, ...] = ("bump", "featured", "top_ad")
PROMOTION_SHARES: tuple[float, ...] = (0.6, 0.3, 0.1)
# Price in cents per (product, currency).
PROMOTION_PRICE_CENTS: dict[str, dict[str, int]] = {
    "bump": {"PLN": 999, "EUR": 249},
    "featured": {"PLN": 2999, "EUR": 699},
    "top_ad": {"PLN": 4900, "EUR": 1199},
}

LISTING_STATUSES: tuple[str, ...] = ("active", "sold", "expired", "deleted")
