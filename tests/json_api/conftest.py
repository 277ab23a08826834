"""Fixtures of the API tests live in tests/conftest.py (api, cities); helpers in tests/apihelp.py."""
