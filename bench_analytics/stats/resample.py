"""Vectorised resampling: bootstrap index chunks, packed integer sums, paired swaps.

Bootstrap indices are drawn in chunks (uint16 when the sample is small enough) so that
10,000 resamples of 10,000 cases fit in memory and in well under a second. Integer
columns (tp, fp, fn …) are packed into one int64 word per case, so one gather sums them
all at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_ELEMENTS = 8_000_000  # indices per chunk (~16-32 MB)


def rng_for(*parts: object) -> np.random.Generator:
    """A generator seeded from the parts (same inputs, same resamples, same verdict)."""
    import hashlib

    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def index_chunks(n: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap index matrices (rows = resamples) whose rows sum to ``resamples``."""
    dtype = np.uint16 if n <= np.iinfo(np.uint16).max else np.uint32
    rows = max(1, CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < resamples:
        size = min(rows, resamples - done)
        yield rng.integers(0, n, size=(size, n), dtype=dtype)
        done += size


def swap_chunks(n: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Random 0/1 swap matrices for a paired permutation test (as float32 for matmul)."""
    rows = max(1, CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < resamples:
        size = min(rows, resamples - done)
        yield rng.integers(0, 2, size=(size, n), dtype=np.int8).astype(np.float32)
        done += size


def _bits(total: int) -> int:
    return max(1, int(total).bit_length())


def pack_columns(columns: np.ndarray) -> tuple[list[np.ndarray], list[list[tuple[int, int, int]]]]:
    """Pack non-negative int columns (n, k) into int64 words whose sums cannot overflow.

    Returns the words (each shape (n,)) and, per word, (column, shift, bits) layouts.
    """
    n = columns.shape[0]
    words: list[np.ndarray] = []
    layouts: list[list[tuple[int, int, int]]] = []
    current = np.zeros(n, dtype=np.int64)
    layout: list[tuple[int, int, int]] = []
    shift = 0
    for col in range(columns.shape[1]):
        values = columns[:, col].astype(np.int64)
        bits = _bits(int(values.max(initial=0)) * n)  # a resampled sum can reach max * n
        if shift + bits > 63 and layout:
            words.append(current)
            layouts.append(layout)
            current, layout, shift = np.zeros(n, dtype=np.int64), [], 0
        current |= values << shift
        layout.append((col, shift, bits))
        shift += bits
    words.append(current)
    layouts.append(layout)
    return words, layouts


def bootstrap_int_sums(columns: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Sums of each int column over bootstrap resamples: shape (resamples, k)."""
    columns = np.asarray(columns)
    n, k = columns.shape
    words, layouts = pack_columns(columns)
    out = np.empty((resamples, k), dtype=np.int64)
    start = 0
    for idx in index_chunks(n, resamples, rng):
        stop = start + idx.shape[0]
        for word, layout in zip(words, layouts, strict=True):
            summed = word[idx].sum(axis=1)
            for col, shift, bits in layout:
                out[start:stop, col] = (summed >> shift) & ((1 << bits) - 1)
        start = stop
    return out


def bootstrap_float_stat(
    values: np.ndarray, resamples: int, rng: np.random.Generator, stat: str = "mean"
) -> np.ndarray:
    """A statistic (mean, p50 or p95) of a float array over bootstrap resamples."""
    n = values.shape[0]
    out = np.empty(resamples)
    start = 0
    for idx in index_chunks(n, resamples, rng):
        sample = values[idx]
        stop = start + idx.shape[0]
        out[start:stop] = _apply(sample, stat)
        start = stop
    return out


def _apply(sample: np.ndarray, stat: str) -> np.ndarray:
    if stat == "mean":
        return np.asarray(sample.mean(axis=1))
    if stat == "p50":
        return np.asarray(np.percentile(sample, 50, axis=1))
    if stat == "p95":
        return np.asarray(np.percentile(sample, 95, axis=1))
    raise ValueError(f"unknown statistic {stat}")


def percentile_interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap draws (NaN draws ignored)."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(draws, [tail, 100 - tail])
    return float(low), float(high)
