#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (see bootstrap.sh),
# starts the local one-node SLURM cluster, runs pytest. Extra arguments go to pytest.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh --slurm || exit 1
if [[ -x scripts/slurm-cluster.sh ]]; then
    bash scripts/slurm-cluster.sh start || echo "[run-tests] SLURM could not start" >&2
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
.venv/bin/ruff check ssbflow tests benchmarks || exit 1
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "[run-tests] pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit $rc
