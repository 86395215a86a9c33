"""Deterministic randomness.

Two kinds, both derived only from the seed:

* `generator(seed, stream, *keys)`: a PCG64 stream per area (customers, consultants, one
  per week of deals, one per advance), for sequential decisions.
* `uniform(seed, stream, *keys)`: a counter-based draw per record key (a splitmix64
  hash), vectorised over numpy arrays. A time entry's hours or a payment's date must not
  depend on how wide a window is generated at once, otherwise `generate` then `advance`
  would not tell the same story as a longer `generate`; keyed draws make that hold.
"""

from __future__ import annotations

import numpy as np

# Stream ids: one per area, never reused for another purpose.
S_CUSTOMERS = 1
S_USERS = 2
S_DEALS = 3
S_FX = 4
S_ENTRY_HOURS = 11
S_ENTRY_LAG = 12
S_ENTRY_MINUTE = 13
S_ENTRY_NONBILLABLE = 14
S_ENTRY_UNSUBMITTED = 15
S_ENTRY_VACATION = 16
S_ENTRY_BENCH = 17
S_EXPENSE = 18
S_EXPENSE_AMOUNT = 19
S_INVOICE_MINUTE = 20
S_INVOICE_PLANT = 21
S_INVOICE_PLANT_KIND = 22
S_INVOICE_PLANT_PICK = 23
S_PAYMENT = 24
S_PAYMENT_DAYS = 25
S_CREDIT = 26
S_HISTORY = 30
S_ADVANCE = 31

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1


def generator(seed: int, stream: int, *keys: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, *keys])))


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def uniform(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """One uniform draw in [0, 1) per key tuple; keys are non-negative integers."""
    arrays = [np.asarray(k, dtype=np.int64).astype(np.uint64) for k in keys]
    shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
    start = np.uint64((seed * 0x100000001B3 + stream * 0x9E3779B1) & _MASK)
    h = _splitmix(np.full(shape, start, dtype=np.uint64))
    for a in arrays:
        h = _splitmix(h ^ np.broadcast_to(a, shape))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def uniform1(seed: int, stream: int, *keys: int) -> float:
    return float(uniform(seed, stream, *(np.array([k]) for k in keys))[0])
