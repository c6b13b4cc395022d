"""Shared fixtures and the ``spec`` marker (``@pytest.mark.spec("E24")`` cites a SPEC id)."""

from __future__ import annotations


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "spec(*ids): the SPEC rule ids a test pins down")
