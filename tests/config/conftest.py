"""Fixtures of the city config tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def write(tmp_path):
    """write(text, name="testville.toml") -> path of a config file in a fresh folder."""

    def _write(text: str, name: str = "testville.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
