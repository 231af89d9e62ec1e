#!/usr/bin/env bash
# The main job on a fresh machine: succinonitrile on LLZO, embedded default
# (CHGNet geometry and energies, CP2K 'fast' electronic stage, montydb store).
# Installs what it needs first. Extra arguments go to `ssbflow run sn-llzo`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
exec .venv/bin/ssbflow run sn-llzo --out ssbflow-runs/sn-llzo --db ssbflow-db "$@"
