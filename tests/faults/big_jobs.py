"""Jobs with large outputs, so that a process writing them to the store spends most of its
time inside document inserts (where the store test kills it). Importable: jobflow
re-imports job functions when a saved flow is loaded again."""

from __future__ import annotations

from jobflow import Flow, job

#: Floats per output (a few MB of document each).
N_VALUES = 300_000


@job
def ramp(i: int) -> list[int]:
    """``[i, i + 1, ..., i + N_VALUES - 1]``."""
    return list(range(i, i + N_VALUES))


def ramps(n_jobs: int) -> Flow:
    """``n_jobs`` independent :func:`ramp` jobs."""
    return Flow([ramp(i) for i in range(n_jobs)], name="ramps")
