"""Wire-level value rendering shared by the three vendor APIs.

The standard ``json`` module can only emit decimals through ``float``, which adds binary
noise for some values and loses the "exact money" property the warehouse tests rely on.
This small encoder writes ``Decimal`` as a JSON number from its decimal digits instead,
and is deterministic (dict insertion order, no whitespace variation).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def decimal_text(value: Decimal) -> str:
    """Shortest plain decimal text: ``Decimal('1234.50')`` -> ``'1234.5'``, never exponents."""
    if not value.is_finite():
        raise ValueError(f"cannot render non-finite decimal {value!r}")
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def json_number(value: Decimal) -> int | float | Decimal:
    """The same JSON number as ``decimal_text(value)``, as a type the C encoder handles.

    Integral values become ``int``; others become ``float`` only when the float's repr is
    exactly the decimal text (so the output bytes cannot differ); anything else stays a
    ``Decimal`` and is rendered by the pure-Python encoder.
    """
    text = decimal_text(value)
    if "." not in text:
        return int(text)
    as_float = float(text)
    return as_float if float.__repr__(as_float) == text else value


def _encode_float(obj: float) -> str:
    if not math.isfinite(obj):
        raise ValueError(f"cannot render non-finite float {obj!r}")
    return float.__repr__(obj)


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _encode_str,
    int: int.__repr__,
    Decimal: decimal_text,
    float: _encode_float,
    type(None): lambda _: "null",
    bool: lambda b: "true" if b else "false",
}


def _encode(obj: Any, out: list[str]) -> None:
    # Exact-type dispatch first: pages hold tens of thousands of scalars.
    scalar = _SCALARS.get(type(obj))
    if scalar is not None:
        out.append(scalar(obj))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, value in obj.items():
            if first:
                first = False
            else:
                out.append(",")
            out.append(_encode_str(str(key)))
            out.append(":")
            scalar = _SCALARS.get(type(value))
            if scalar is not None:
                out.append(scalar(value))
            else:
                _encode(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _encode(value, out)
        out.append("]")
    elif isinstance(obj, bool):
        out.append("true" if obj else "false")
    elif isinstance(obj, str):
        out.append(_encode_str(obj))
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, Decimal):
        out.append(decimal_text(obj))
    elif isinstance(obj, float):
        out.append(_encode_float(obj))
    else:
        raise TypeError(f"cannot render {type(obj).__name__} as JSON")


def dumps(obj: Any) -> bytes:
    """Serialise to compact UTF-8 JSON bytes; decimals as exact JSON numbers.

    The C encoder handles pages whose numbers went through :func:`json_number`; a page
    still holding a ``Decimal`` falls back to the pure-Python encoder. Both write the
    same bytes for the same values.
    """
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except TypeError:
        out: list[str] = []
        _encode(obj, out)
        return "".join(out).encode("utf-8")


def as_utc_naive(value: dt.datetime) -> dt.datetime:
    """Storage timestamps are naive UTC; tolerate aware values by converting them."""
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_iso_datetime(text: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp (``Z``, ``+hh:mm``, ``+hhmm`` or naive) to naive UTC."""
    text = text.strip()
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00 for fromisoformat
    parsed = dt.datetime.fromisoformat(text)
    return as_utc_naive(parsed)
