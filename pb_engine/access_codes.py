"""One-time access codes: short, printable, typo-resistant.

A code is 11 random characters and one check character from a 31-letter
alphabet without look-alikes (no 0/O, 1/I/L), printed in groups of four:
`K7QM-4TXR-9PWC`. 31 is prime and the check is a weighted sum with weights
1..11, so any single mistyped character and any swap of two neighbours is
caught before the database is asked ("check the code for a typo").
11 random characters hold 54 bits: guessing a valid code is hopeless.

Input is forgiving about case, spaces and dashes; a look-alike (0, O, 1, I, L)
is refused with a message rather than guessed.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols, prime
RANDOM_CHARS = 11
LENGTH = RANDOM_CHARS + 1
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
assert len(ALPHABET) == 31


class BadCode(ValueError):
    """Not a well-formed access code; the message says why, `code` and `params` say it for other
    languages (listed in pb_engine.ballots.refusals.VOTING_PROBLEMS)."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def check_char(body: str) -> str:
    total = sum((i + 1) * _INDEX[c] for i, c in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + check_char(body)


def pretty(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str:
    """Canonical form of a typed code, or BadCode."""
    if not isinstance(text, str):
        raise BadCode("an access code is text like K7QM-4TXR-9PWC", "access_code_not_text")
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != LENGTH:
        raise BadCode(f"an access code has {LENGTH} characters (like K7QM-4TXR-9PWC), this one has {len(code)}",
                      "access_code_wrong_length", length=LENGTH, got=len(code))
    bad = sorted({c for c in code if c not in _INDEX})
    if bad:
        raise BadCode(f"an access code never contains {', '.join(bad)}; check the code for a typo",
                      "access_code_bad_characters", characters=bad)
    if check_char(code[:-1]) != code[-1]:
        raise BadCode("this access code has a typo (its check character does not match)", "access_code_typo")
    return code
