"""Puts the repository root on sys.path (pytest does so for a root conftest), so that the `api`
package is found before the test folder tests/api/, which would otherwise shadow it as a namespace package."""
