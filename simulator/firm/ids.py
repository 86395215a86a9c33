"""Record identifiers in each vendor's own shape.

Salesforce ids are 18 characters: a 3-character key prefix per object, a pod and a
reserved character, a 9-character base-62 serial, and the 3-character case-safe
checksum that Salesforce appends to the 15-character id. Harvest and NetSuite ids are
plain integers from per-resource sequences.
"""

from __future__ import annotations

import numpy as np

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

SF_ACCOUNT = "001"
SF_OPPORTUNITY = "006"
SF_LINE_ITEM = "00k"
SF_CONTRACT = "800"

# Serials start high and step by a prime so ids look like a busy org's, not 000001.
_SF_SERIAL_START = {
    SF_ACCOUNT: 7_100_000_000,
    SF_OPPORTUNITY: 7_300_000_000,
    SF_LINE_ITEM: 7_500_000_000,
    SF_CONTRACT: 7_700_000_000,
}
_SF_SERIAL_STEP = 2_741
SF_DUPLICATE_SERIAL = 900_000
"""Serial offset for accounts created by advance/plants, beyond any plan account."""


def base62(n: int, width: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(B62[r])
    return "".join(reversed(out)).rjust(width, "0")


def sf_checksum(id15: str) -> str:
    suffix = ""
    for chunk in range(3):
        bits = 0
        for j, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << j
        suffix += _CHECKSUM[bits]
    return suffix


def sf_id(prefix: str, serial: int) -> str:
    """The 18-character id of the `serial`-th record of an object."""
    id15 = prefix + "8d0" + base62(_SF_SERIAL_START[prefix] + serial * _SF_SERIAL_STEP, 9)
    return id15 + sf_checksum(id15)


def sf_ids(prefix: str, serials: np.ndarray) -> np.ndarray:
    """`sf_id` vectorised over an array of serials (same result, element by element)."""
    n = _SF_SERIAL_START[prefix] + np.asarray(serials, dtype=np.int64) * _SF_SERIAL_STEP
    digits = np.empty((len(n), 9), dtype=np.int64)
    for pos in range(8, -1, -1):
        n, digits[:, pos] = np.divmod(n, 62)
    head = np.frombuffer((prefix + "8d0").encode(), dtype=np.uint8)
    codes = np.concatenate([np.broadcast_to(head, (len(n), 6)), _B62_CODES[digits]], axis=1)
    upper = (codes >= ord("A")) & (codes <= ord("Z"))
    weights = 1 << np.arange(5)
    suffix = [
        _CHECKSUM_CODES[(upper[:, c * 5 : c * 5 + 5] * weights).sum(axis=1)] for c in range(3)
    ]
    full = np.ascontiguousarray(np.column_stack([codes, *suffix]).astype(np.uint8))
    return full.view("S18").ravel().astype(str).astype(object)


_B62_CODES = np.frombuffer(B62.encode(), dtype=np.uint8)
_CHECKSUM_CODES = np.frombuffer(_CHECKSUM.encode(), dtype=np.uint8)


# Harvest resource id bases.
HV_CLIENT = 11_800_000
HV_USER = 4_100_000
HV_TASK = 20_400_000
HV_PROJECT = 36_500_000
HV_TIME_ENTRY = 2_310_000_000
HV_EXPENSE = 310_000_000
HV_INVOICE = 41_000_000
HV_EXPENSE_CATEGORY = 9_100_000

# NetSuite internal id bases.
NS_CUSTOMER = 1_300
NS_ITEM = 20
NS_PERIOD = 100
NS_TRANSACTION = 5_000
NS_UNIQUEKEY = 90_000

# NetSuite document number sequences: (prefix, first number).
TRANID = {
    "SalesOrd": ("SO", 1001),
    "CustInvc": ("INV", 10001),
    "CustPymt": ("PYMT", 3001),
    "CustCred": ("CM", 501),
}


def harvest_invoice_id(tranid: str) -> int:
    """The Harvest invoice that mirrors an ERP invoice: derived from its number."""
    return HV_INVOICE + int(tranid.removeprefix("INV"))


def erp_tranid(harvest_invoice_id: int) -> str:
    """The ERP invoice number a Harvest invoice id was derived from."""
    return f"INV{harvest_invoice_id - HV_INVOICE}"
