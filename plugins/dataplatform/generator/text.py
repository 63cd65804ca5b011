"""Free text people type (listing titles, descriptions, search queries), some with contact data."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataplatform.generator import pii, vocab
from dataplatform.generator.catalog import Catalog, random_stems
from dataplatform.generator.params import Behaviour
from dataplatform.generator.strings import join, pick
from dataplatform.generator.users import Users

_OPENERS = tuple(tuple(t.split("{item}")) for t in vocab.DESCRIPTION_OPENERS)


@dataclass
class ListingText:
    title: pa.Array
    description: pa.Array
    title_has_contact: np.ndarray
    description_has_contact: np.ndarray


def _scatter(snippets: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """A length-n array holding snippets at rows and "" elsewhere."""
    index = np.zeros(n, dtype=np.int64)
    index[rows] = 1 + np.arange(len(rows))
    return pa.concat_arrays([pa.array([""], pa.string()), snippets.cast(pa.string())]).take(
        pa.array(index)
    )


def _contact_snippets(
    rng: np.random.Generator,
    owner: np.ndarray,
    users: Users,
    phone_phrases: tuple[str, ...],
    email_phrases: tuple[str, ...],
    own_share: float,
) -> pa.Array:
    """A phrase and a phone number or e-mail: the writer's own (when known) or made up."""
    m = len(owner)
    known = owner >= 0
    safe_owner = np.where(known, owner, 0)
    own_phone = users.phone.take(pa.array(safe_owner))
    own_email = users.email.take(pa.array(safe_owner))
    use_own = known & (rng.random(m) < own_share)
    phone = pc.if_else(
        pa.array(use_own & pc.is_valid(own_phone).to_numpy(zero_copy_only=False)),
        own_phone,
        pii.phone_numbers(rng, pii.random_countries(rng, m)),
    )
    email = pc.if_else(pa.array(use_own), own_email, pii.made_up_emails(rng, m))
    # Upper-case addresses show up too; redaction has to be case-insensitive.
    email = pc.if_else(pa.array(rng.random(m) < 0.1), pc.utf8_upper(email), email)
    phone_text = join(pick(phone_phrases, rng.integers(0, len(phone_phrases), m)), phone)
    email_text = join(pick(email_phrases, rng.integers(0, len(email_phrases), m)), email)
    return pc.if_else(pa.array(rng.random(m) < 0.6), phone_text, email_text)


def listing_texts(
    rng: np.random.Generator,
    catalog: Catalog,
    stem: np.ndarray,
    owner: np.ndarray,
    users: Users,
    behaviour: Behaviour,
) -> ListingText:
    n = len(stem)
    item = pick(catalog.stems, stem)
    title = join(
        pick(vocab.TITLE_PREFIXES, rng.integers(0, len(vocab.TITLE_PREFIXES), n)),
        item,
        pick(vocab.TITLE_SUFFIXES, rng.integers(0, len(vocab.TITLE_SUFFIXES), n)),
    )
    opener = rng.integers(0, len(_OPENERS), n)
    description = join(
        pick([pre for pre, _ in _OPENERS], opener),
        item,
        pick([post for _, post in _OPENERS], opener),
        pick(vocab.DESCRIPTION_CONDITIONS, rng.integers(0, len(vocab.DESCRIPTION_CONDITIONS), n)),
        pick(vocab.DESCRIPTION_LOGISTICS, rng.integers(0, len(vocab.DESCRIPTION_LOGISTICS), n)),
    )
    title_contact = rng.random(n) < behaviour.title_contact_share
    description_contact = rng.random(n) < behaviour.description_contact_share
    for has_contact, field in ((title_contact, "title"), (description_contact, "description")):
        rows = np.flatnonzero(has_contact)
        snippets = _contact_snippets(
            rng,
            owner[rows],
            users,
            vocab.CONTACT_PHONE_PHRASES,
            vocab.CONTACT_EMAIL_PHRASES,
            behaviour.own_contact_share,
        )
        extra = _scatter(snippets, rows, n)
        if field == "title":
            title = join(title, extra)
        else:
            description = join(description, extra)
    return ListingText(title, description, title_contact, description_contact)


def search_queries(
    rng: np.random.Generator,
    catalog: Catalog,
    leaf: np.ndarray,
    searcher: np.ndarray,
    users: Users,
    behaviour: Behaviour,
) -> tuple[pa.Array, np.ndarray]:
    """Lower-case queries built from item names; a few carry a phone number or address."""
    n = len(leaf)
    modifiers, suffixes = vocab.QUERY_MODIFIERS, vocab.QUERY_SUFFIXES
    # Every distinct query is built once; each search then only gathers one of them.
    all_queries = _all_queries(catalog.stems)
    code = (
        rng.integers(0, len(modifiers), n) * len(catalog.stems) + random_stems(catalog, rng, leaf)
    ) * len(suffixes) + rng.integers(0, len(suffixes), n)
    query = all_queries.take(pa.array(code))
    has_contact = rng.random(n) < behaviour.query_contact_share
    rows = np.flatnonzero(has_contact)
    snippets = _contact_snippets(
        rng,
        searcher[rows],
        users,
        vocab.QUERY_CONTACT_PHRASES,
        vocab.QUERY_CONTACT_PHRASES,
        behaviour.own_contact_share,
    )
    return join(query, _scatter(snippets, rows, n)), has_contact


@functools.cache
def _all_queries(stems: tuple[str, ...]) -> pa.Array:
    """All modifier x item x suffix combinations, indexed (modifier, stem, suffix)."""
    stems = tuple(stem.lower() for stem in stems)
    return pa.array(
        [
            f"{modifier}{stem}{suffix}"
            for modifier in vocab.QUERY_MODIFIERS
            for stem in stems
            for suffix in vocab.QUERY_SUFFIXES
        ],
        pa.string(),
    )
