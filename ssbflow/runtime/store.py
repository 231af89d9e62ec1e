"""The results store: a jobflow ``JobStore`` on maggma stores.

Embedded default: montydb (``MontyStore``, sqlite storage) in a project directory, chosen
by ``db`` argument, the ``SSBFLOW_DB`` environment variable, or ``./ssbflow-db``.
Production: MongoDB from ``SSBFLOW_MONGO_URI`` (``MongoStore.from_uri`` for documents,
``GridFSStore.from_uri`` for large arrays; the server is pinged once, with a
:data:`MONGO_CHECK_TIMEOUT_S` server-selection timeout, before anything is written).
Both have the same documents and an additional ``data`` store for large arrays
(volumetric grids, trajectories), so the same code path serves both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from jobflow import JobStore

from ssbflow.errors import InputError, SsbflowError

DB_ENV = "SSBFLOW_DB"
MONGO_ENV = "SSBFLOW_MONGO_URI"
DEFAULT_DB_DIR = "ssbflow-db"
OUTPUTS_COLLECTION = "outputs"
DATA_COLLECTION = "outputs_blobs"
DATABASE_NAME = "ssbflow"
#: Server-selection timeout of the one connection check at start (s); pymongo waits 30 s.
MONGO_CHECK_TIMEOUT_S = 3.0


def mask_uri(uri: str) -> str:
    """Hide the password of a MongoDB URI (``mongodb://user:***@host/db``)."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", uri)


def resolve_db_dir(db: str | Path | None = None) -> Path:
    """The montydb directory: ``db``, else ``$SSBFLOW_DB``, else ``./ssbflow-db``."""
    return Path(db or os.environ.get(DB_ENV) or DEFAULT_DB_DIR).expanduser().absolute()


def check_store(db: str | Path | None = None, mongo_uri: str | None = None) -> None:
    """Check the store :func:`get_job_store` would open, writing nothing: MongoDB answers
    (:func:`check_mongo`), or the montydb folder ``db`` is not a file.

    Raises
    ------
    InputError, SsbflowError
        As :func:`get_job_store`.
    """
    uri = mongo_uri or os.environ.get(MONGO_ENV)
    if uri:
        check_mongo(uri)
        return
    path = resolve_db_dir(db)
    if path.exists() and not path.is_dir():
        raise InputError(f"store directory --db {str(path)!r} is a file; expected a directory")


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
    from maggma.stores import GridFSStore, MongoStore

    docs = MongoStore.from_uri(uri, collection_name=OUTPUTS_COLLECTION, database=database)
    data = GridFSStore.from_uri(uri, collection_name=DATA_COLLECTION, database=database)
    return JobStore(docs, additional_stores={"data": data})


def check_mongo(uri: str, timeout_s: float = MONGO_CHECK_TIMEOUT_S) -> None:
    """Ping the MongoDB server of ``uri`` once, waiting at most ``timeout_s`` for it.

    Raises
    ------
    InputError
        ``uri`` is not a MongoDB connection string.
    SsbflowError
        No server answered (the message names the host, password masked).
    """
    from pymongo import MongoClient, uri_parser
    from pymongo.errors import ConfigurationError, InvalidURI, OperationFailure, PyMongoError

    masked = mask_uri(uri)
    try:
        nodes = uri_parser.parse_uri(uri, connect_timeout=timeout_s)["nodelist"]  # SRV: DNS
        client = MongoClient(uri, serverSelectionTimeoutMS=int(timeout_s * 1000),
                             connectTimeoutMS=int(timeout_s * 1000))
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise InputError(f"MongoDB URI {masked!r} is not valid: {mask_uri(str(exc))}") from None
    hosts = ", ".join(f"{host}:{port}" for host, port in nodes)
    try:
        client.admin.command("ping")
    except OperationFailure as exc:  # it answered, but refused (e.g. wrong password)
        reason = (exc.details or {}).get("errmsg") or str(exc)
        raise SsbflowError(f"MongoDB at {hosts} ({masked}) refused the connection: "
                           f"{mask_uri(str(reason))}; nothing was written") from None
    except PyMongoError as exc:
        raise SsbflowError(
            f"MongoDB at {hosts} ({masked}) could not be reached within {timeout_s:g} s "
            f"({type(exc).__name__}); nothing was written"
        ) from None
    finally:
        client.close()


def get_job_store(db: str | Path | None = None, mongo_uri: str | None = None) -> JobStore:
    """The store to use: MongoDB when a URI is given (or in ``$SSBFLOW_MONGO_URI``), checked
    to answer (:func:`check_mongo`), else montydb under ``db``.
    """
    uri = mongo_uri or os.environ.get(MONGO_ENV)
    if uri:
        check_mongo(uri)
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
