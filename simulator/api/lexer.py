"""The tokenizer both query languages share (SOQL and SuiteQL differ in their token patterns)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def word(self) -> str:
        """Lower-cased text for keyword matching."""
        return self.text.lower()

    def is_kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.word in words

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


def tokenize(
    text: str, pattern: re.Pattern[str], unexpected: Callable[[int], Exception]
) -> list[Token]:
    """Split ``text`` by ``pattern``'s named groups (``ws`` is dropped), ending with ``eof``.

    ``unexpected(pos)`` builds the vendor's error for text no group matches.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            raise unexpected(pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(kind), pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens
