"""Puts the repository root on sys.path (pytest does so for a root conftest), so that the `api`
package is always the service, whatever test module is collected first."""
