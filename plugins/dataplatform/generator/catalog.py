"""The category tree and category-dependent draws (true categories, wrong guesses, prices)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataplatform.generator import vocab
from dataplatform.generator.sampling import categorical


@dataclass(frozen=True)
class Catalog:
    """Categories as arrays. Leaves are addressed by position 0..n_leaves-1 ("leaf index")."""

    category_id: np.ndarray
    parent_id: np.ndarray  # -1 for the top level
    name: tuple[str, ...]
    leaf_id: np.ndarray
    leaf_parent_id: np.ndarray
    leaf_popularity: np.ndarray
    leaf_median_price: np.ndarray
    leaf_first_sibling: np.ndarray
    leaf_sibling_count: np.ndarray
    stems: tuple[str, ...]
    stem_offset: np.ndarray
    stem_count: np.ndarray

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_id)

    @property
    def parent_ids(self) -> np.ndarray:
        return self.category_id[self.parent_id < 0]


def make_catalog() -> Catalog:
    ids, parents, names = [], [], []
    leaf_rows: list[tuple[int, int, float, float, int, int]] = []
    stems: list[str] = []
    for parent_id, parent_name, leaves in vocab.CATEGORY_TREE:
        ids.append(parent_id)
        parents.append(-1)
        names.append(parent_name)
        first = len(leaf_rows)
        for leaf_id, leaf_name, popularity, price, leaf_stems in leaves:
            ids.append(leaf_id)
            parents.append(parent_id)
            names.append(leaf_name)
            leaf_rows.append((leaf_id, parent_id, popularity, price, first, len(leaves)))
            stems.extend(leaf_stems)
    leaf = np.array(leaf_rows, dtype=np.float64)
    stem_count = np.array(
        [len(s) for _, _, leaves in vocab.CATEGORY_TREE for *_, s in leaves], dtype=np.int64
    )
    popularity = leaf[:, 2] / leaf[:, 2].sum()
    return Catalog(
        category_id=np.array(ids, dtype=np.int64),
        parent_id=np.array(parents, dtype=np.int64),
        name=tuple(names),
        leaf_id=leaf[:, 0].astype(np.int64),
        leaf_parent_id=leaf[:, 1].astype(np.int64),
        leaf_popularity=popularity,
        leaf_median_price=leaf[:, 3],
        leaf_first_sibling=leaf[:, 4].astype(np.int64),
        leaf_sibling_count=leaf[:, 5].astype(np.int64),
        stems=tuple(stems),
        stem_offset=np.concatenate([[0], np.cumsum(stem_count)[:-1]]),
        stem_count=stem_count,
    )


def random_leaves(catalog: Catalog, rng: np.random.Generator, n: int) -> np.ndarray:
    return categorical(rng, catalog.leaf_popularity, n)


def wrong_leaves(
    catalog: Catalog, rng: np.random.Generator, true_leaf: np.ndarray, sibling_share: float
) -> np.ndarray:
    """A leaf different from true_leaf: usually a sibling (the typical model confusion)."""
    n = len(true_leaf)
    first = catalog.leaf_first_sibling[true_leaf]
    count = catalog.leaf_sibling_count[true_leaf]
    position = true_leaf - first
    sibling = first + (position + 1 + (rng.random(n) * (count - 1)).astype(np.int64)) % count
    other = (true_leaf + rng.integers(1, catalog.n_leaves, size=n)) % catalog.n_leaves
    return np.where(rng.random(n) < sibling_share, sibling, other)


def random_stems(catalog: Catalog, rng: np.random.Generator, leaf: np.ndarray) -> np.ndarray:
    """Index into catalog.stems of an item typical of each leaf."""
    count = catalog.stem_count[leaf]
    return catalog.stem_offset[leaf] + (rng.random(len(leaf)) * count).astype(np.int64)


def random_prices_cents(
    catalog: Catalog,
    rng: np.random.Generator,
    leaf: np.ndarray,
    currency: np.ndarray,
    free_share: float,
) -> np.ndarray:
    """Asking prices as people set them: round amounts, some .99 / .50, a few free items."""
    n = len(leaf)
    pln = catalog.leaf_median_price[leaf] * rng.lognormal(0.0, 0.6, size=n)
    amount = np.where(currency == vocab.CURRENCIES.index("EUR"), pln / vocab.PLN_PER_EUR, pln)
    whole = np.maximum(1, np.round(amount)).astype(np.int64)
    whole = np.where(whole >= 100, np.round(whole, -1), whole)
    cents = np.select([rng.random(n) < 0.15, rng.random(n) < 0.05], [99, 50], default=0).astype(
        np.int64
    )
    price = np.where(cents == 99, np.maximum(whole - 1, 0) * 100 + 99, whole * 100 + cents)
    return np.where(rng.random(n) < free_share, 0, price)
