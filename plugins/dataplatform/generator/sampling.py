"""Fast weighted sampling for millions of draws.

numpy's Generator.choice(k, p=...) binary-searches a CDF per draw, which is slow even for a
handful of categories, and cache-hostile for a large CDF (one weight per user).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def categorical(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int
) -> np.ndarray:
    """n draws of indexes 0..k-1 with probability proportional to weights (Walker's alias method).

    Exact up to floating point; O(k) to set up and O(1) per draw. Meant for small k.
    """
    p = np.asarray(weights, dtype=np.float64)
    k = len(p)
    scaled = p * (k / p.sum())
    accept = np.ones(k)
    alias = np.arange(k)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    column = rng.integers(0, k, size=n)
    return np.where(rng.random(n) < accept[column], column, alias[column])


def from_cdf(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """n draws from a large discrete distribution given by its CDF (last value 1.0).

    The uniforms are searched in sorted order (sequential memory access), then the draws are
    shuffled back into random order; the result is a sample of n independent draws.
    """
    uniforms = np.sort(rng.random(n))
    draws = np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1)
    return draws[rng.permutation(n)]
