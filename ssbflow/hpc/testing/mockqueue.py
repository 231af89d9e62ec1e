"""An in-process stand-in for MongoDB as jobflow-remote's *queue* database (tests only).

No MongoDB server can run on the test machines. jobflow-remote's queue needs MongoDB
features that montydb lacks (aggregations with ``$lookup``, pipeline updates, sessions);
mongomock-ng (installed with maggma) has them. :class:`SharedMongomockStore` is a maggma
``MongoStore`` whose collections live in one mongomock-ng client shared by every store of
the process, so the ``JobController`` of ``ssbflow submit``/``status``/``resume`` and the
jobflow-remote ``Runner`` driven in the same process see the same queue.

Everything else is real: SLURM, ``sbatch``/``squeue``, the job scripts, ``jf execution
run`` inside the jobs, and the outputs (montydb or MongoDB). Production puts a MongoDB URI
in the profile (``mongo_uri``) or ``$SSBFLOW_MONGO_URI`` and the same code runs against it.
"""

from __future__ import annotations

from typing import Any

import mongomock_ng
from maggma.core import Store
from maggma.stores import MongoStore

_CLIENT: mongomock_ng.MongoClient | None = None


def shared_client() -> mongomock_ng.MongoClient:
    """The process-wide mongomock-ng client."""
    global _CLIENT  # one client per process is the point of this module
    if _CLIENT is None:
        _CLIENT = mongomock_ng.MongoClient()
    return _CLIENT


def reset_shared_client() -> None:
    """Forget every collection (a fresh, empty queue database)."""
    global _CLIENT
    _CLIENT = None


class SharedMongomockStore(MongoStore):
    """A ``MongoStore`` on the process-wide mongomock-ng client.

    Parameters
    ----------
    collection_name : collection (jobflow-remote takes its other collections from the
        same database).
    database : database name.
    """

    def __init__(self, collection_name: str, database: str = "ssbflow", **kwargs: Any) -> None:
        self.database = database
        self.collection_name = collection_name
        self.default_sort = None
        self.kwargs = kwargs
        self._coll = None
        self.ssh_tunnel = None
        # skip MongoStore.__init__ (host/port/credentials): nothing to connect to
        Store.__init__(self, **kwargs)

    def connect(self, force_reset: bool = False) -> None:
        """Attach to the shared client's collection."""
        if self._coll is None or force_reset:
            self._coll = shared_client()[self.database][self.collection_name]

    def close(self) -> None:
        """Keep the shared client open (other stores of the process use it)."""

    @property
    def name(self) -> str:
        """A name for the store."""
        return f"mongomock://{self.database}/{self.collection_name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SharedMongomockStore) and self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)
