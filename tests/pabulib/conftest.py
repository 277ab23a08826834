from __future__ import annotations

from pathlib import Path

import pytest

PABULIB = Path(__file__).resolve().parent.parent / "data" / "pabulib"


@pytest.fixture(scope="session")
def parsed():
    """Each real file parsed once per session (the Warszawa file takes ~0.2 s)."""
    from pb_engine import pabulib

    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = pabulib.parse(PABULIB / name)
        return cache[name]

    return get
