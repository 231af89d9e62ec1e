"""The results store: a jobflow ``JobStore`` on maggma stores.

Embedded default: montydb (``MontyStore``, sqlite storage) in a project directory, chosen
by ``db`` argument, the ``SSBFLOW_DB`` environment variable, or ``./ssbflow-db``.
Production: MongoDB from ``SSBFLOW_MONGO_URI`` (``MongoURIStore`` for documents, GridFS for
large arrays). Both have the same documents and an additional ``data`` store for large
arrays (volumetric grids, trajectories), so the same code path serves both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from jobflow import JobStore

from ssbflow.errors import InputError

DB_ENV = "SSBFLOW_DB"
MONGO_ENV = "SSBFLOW_MONGO_URI"
DEFAULT_DB_DIR = "ssbflow-db"
OUTPUTS_COLLECTION = "outputs"
DATA_COLLECTION = "outputs_blobs"
DATABASE_NAME = "ssbflow"


def mask_uri(uri: str) -> str:
    """Hide the password of a MongoDB URI (``mongodb://user:***@host/db``)."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", uri)


def resolve_db_dir(db: str | Path | None = None) -> Path:
    """The montydb directory: ``db``, else ``$SSBFLOW_DB``, else ``./ssbflow-db``."""
    return Path(db or os.environ.get(DB_ENV) or DEFAULT_DB_DIR).expanduser().absolute()


def monty_job_store(db: str | Path | None = None) -> JobStore:
    """A ``JobStore`` on montydb (sqlite storage) in directory ``db``.

    Raises
    ------
    InputError
        ``db`` exists and is not a directory, or cannot be created.
    """
    from maggma.stores import MontyStore

    path = resolve_db_dir(db)
    if path.exists() and not path.is_dir():
        raise InputError(f"store directory --db {str(path)!r} is a file; expected a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"store directory --db {str(path)!r} cannot be created: {exc}") from exc
    common = {"database_path": str(path), "database_name": DATABASE_NAME, "storage": "sqlite"}
    docs = MontyStore(OUTPUTS_COLLECTION, **common)
    data = MontyStore(DATA_COLLECTION, **common)
    return JobStore(docs, additional_stores={"data": data})


def mongo_job_store(uri: str, database: str = DATABASE_NAME) -> JobStore:
    """A ``JobStore`` on MongoDB at ``uri``; large arrays go to GridFS."""
    from maggma.stores import MongoURIStore
    from maggma.stores.gridfs import GridFSURIStore

    docs = MongoURIStore(uri, collection_name=OUTPUTS_COLLECTION, database=database)
    data = GridFSURIStore(uri, collection_name=DATA_COLLECTION, database=database)
    return JobStore(docs, additional_stores={"data": data})


def get_job_store(db: str | Path | None = None, mongo_uri: str | None = None) -> JobStore:
    """The store to use: MongoDB when a URI is given (or in ``$SSBFLOW_MONGO_URI``),
    else montydb under ``db``.
    """
    uri = mongo_uri or os.environ.get(MONGO_ENV)
    if uri:
        return mongo_job_store(uri)
    return monty_job_store(db)


def describe_store(store: JobStore) -> str:
    """A printable description of the store with credentials masked."""
    docs = store.docs_store
    uri = getattr(docs, "uri", None)
    if uri:
        return f"MongoDB {mask_uri(uri)}"
    return f"montydb {getattr(docs, 'database_path', '?')}"


def read_output(store: JobStore, output: Any) -> Any:
    """A flow's output from ``store`` (``data`` items loaded): one job's output, or a dict of
    them (a model committee's model → output); ``None`` stays ``None``."""
    if output is None:
        return None
    if isinstance(output, dict):
        return {key: read_output(store, value) for key, value in output.items()}
    return store.get_output(output.uuid, load=True)
