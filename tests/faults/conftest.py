"""Shared pieces of the fault tests: a store with one document, and its fingerprint."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


def tree_hash(folder: Path) -> str:
    """SHA-256 over the relative names and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory) -> Path:
    """A montydb store folder holding one job document (as a finished run leaves it)."""
    from ssbflow.runtime.store import get_job_store

    db = tmp_path_factory.mktemp("faults") / "db"
    store = get_job_store(db)
    store.connect()
    store.docs_store.update([{"uuid": "0" * 8, "index": 1, "name": "seed", "output": 1.0,
                              "hosts": ["f" * 8]}], key=["uuid", "index"])
    store.close()
    return db
