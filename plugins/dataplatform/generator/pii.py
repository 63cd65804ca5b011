"""Realistic personal data, vectorised: names, e-mail addresses, phone numbers per country."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dataplatform.generator import vocab
from dataplatform.generator.sampling import categorical
from dataplatform.generator.strings import build_by_code, fill_template, int_strings, join, pick

COUNTRY_CODES = tuple(code for code, _, _ in vocab.COUNTRIES)
COUNTRY_SHARES = np.array([share for _, _, share in vocab.COUNTRIES])
COUNTRY_CURRENCY = np.array(
    [vocab.CURRENCIES.index(currency) for _, currency, _ in vocab.COUNTRIES], dtype=np.int8
)
PHONE_FORMATS_PER_COUNTRY = 4


def _flatten(table: dict[str, tuple[str, ...]]) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Names of all countries in one list, with each country's offset and count."""
    display, offsets, counts = [], [], []
    for code in COUNTRY_CODES:
        offsets.append(len(display))
        counts.append(len(table[code]))
        display.extend(table[code])
    return display, [vocab.ascii_name(n) for n in display], np.array(offsets), np.array(counts)


FIRST_DISPLAY, FIRST_ASCII, FIRST_OFFSET, FIRST_COUNT = _flatten(vocab.FIRST_NAMES)
LAST_DISPLAY, LAST_ASCII, LAST_OFFSET, LAST_COUNT = _flatten(vocab.LAST_NAMES)


def random_countries(rng: np.random.Generator, n: int) -> np.ndarray:
    return categorical(rng, COUNTRY_SHARES, n).astype(np.int8)


def random_names(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indexes into FIRST_* and LAST_* for names typical of each row's country."""
    n = len(country)
    first = FIRST_OFFSET[country] + (rng.random(n) * FIRST_COUNT[country]).astype(np.int64)
    last = LAST_OFFSET[country] + (rng.random(n) * LAST_COUNT[country]).astype(np.int64)
    return first, last


def full_names(first: np.ndarray, last: np.ndarray) -> pa.Array:
    return join(pick(FIRST_DISPLAY, first), " ", pick(LAST_DISPLAY, last))


def email_addresses(
    rng: np.random.Generator,
    country: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    number: np.ndarray,
) -> pa.Array:
    """Addresses derived from the person's name; the trailing number keeps them unique.

    Every local part ends in letters followed by `number`, so distinct numbers give distinct
    addresses whatever the pattern.
    """
    n = len(country)
    initials = [name[0] for name in FIRST_ASCII]

    def local_part(pattern: int, rows: np.ndarray) -> pa.Array:
        f, ln = pick(FIRST_ASCII, first[rows]), pick(LAST_ASCII, last[rows])
        num = int_strings(number[rows])
        if pattern == 0:
            return join(f, ".", ln, num)
        if pattern == 1:
            return join(pick(initials, first[rows]), ln, num)
        if pattern == 2:
            return join(f, "_", ln, num)
        if pattern == 3:
            return join(ln, ".", f, num)
        return join(f, num)

    local = build_by_code(categorical(rng, [0.35, 0.2, 0.15, 0.1, 0.2], n), 5, local_part)
    domains: list[str] = []
    domain_code = np.zeros(n, dtype=np.int64)
    for c, code in enumerate(COUNTRY_CODES):
        rows = country == c
        weights = np.array([w for _, w in vocab.EMAIL_DOMAINS[code]])
        domain_code[rows] = len(domains) + categorical(rng, weights, int(rows.sum()))
        domains.extend(d for d, _ in vocab.EMAIL_DOMAINS[code])
    return join(local, "@", pick(domains, domain_code))


# Written the way people in each country write mobile numbers; '#' is a digit of the national
# number (PL, FR, ES: 9 digits; DE: 11 digits with the 15x/16x/17x prefix).
PHONE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PL": ("+48 ### ### ###", "### ### ###", "+48#########", "###-###-###"),
    "DE": ("+49 ### ########", "0### ########", "+49###########", "0###/########"),
    "FR": ("+33 # ## ## ## ##", "0# ## ## ## ##", "+33#########", "0#.##.##.##.##"),
    "ES": ("+34 ### ## ## ##", "### ## ## ##", "+34#########", "#########"),
}
_FIRST_DIGITS = {"PL": (5, 6, 7, 8), "DE": (1,), "FR": (6, 7), "ES": (6, 7)}


def phone_numbers(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Mobile numbers in one of four local writing styles for each row's country."""
    n = len(country)
    digits = rng.integers(0, 10, size=(n, 11), dtype=np.uint8)
    for c, code in enumerate(COUNTRY_CODES):
        rows = country == c
        first = np.array(_FIRST_DIGITS[code], dtype=np.uint8)
        digits[rows, 0] = first[rng.integers(0, len(first), size=int(rows.sum()))]
    german = country == COUNTRY_CODES.index("DE")
    digits[german, 1] = rng.choice(np.array([5, 6, 7], dtype=np.uint8), size=int(german.sum()))
    style = rng.integers(0, PHONE_FORMATS_PER_COUNTRY, size=n)
    code = country.astype(np.int64) * PHONE_FORMATS_PER_COUNTRY + style
    templates = [t for c in COUNTRY_CODES for t in PHONE_TEMPLATES[c]]
    return build_by_code(
        code, len(templates), lambda k, rows: fill_template(templates[k], digits[rows])
    )


def made_up_emails(rng: np.random.Generator, n: int) -> pa.Array:
    """Addresses of no user in the database (people also write friends' or throwaway ones)."""
    country = random_countries(rng, n)
    first, last = random_names(rng, country)
    return email_addresses(rng, country, first, last, rng.integers(1, 100, size=n) + 10**6)
