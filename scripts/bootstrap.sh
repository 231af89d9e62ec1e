#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: .venv with the CPU torch wheel and ssbflow,
# Debian's CP2K (and, with --slurm, SLURM + munge) when running as root with apt.
# Usage: source-free; run `bash scripts/bootstrap.sh [--slurm]`. Prints what is missing
# and carries on with what can run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
want_slurm=0
[[ "${1:-}" == "--slurm" ]] && want_slurm=1

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# ---- Debian packages (CP2K always, SLURM for the test suite) ----------------
apt_pkgs=()
command -v cp2k.psmp >/dev/null 2>&1 || apt_pkgs+=(cp2k cp2k-data)
[[ -d /usr/share/cp2k/data ]] || [[ -d /usr/share/cp2k ]] || apt_pkgs+=(cp2k-data)
if (( want_slurm )); then
    command -v slurmctld >/dev/null 2>&1 || apt_pkgs+=(slurm-wlm slurmctld slurmd slurm-client)
    command -v munged >/dev/null 2>&1 || [[ -x /usr/sbin/munged ]] || apt_pkgs+=(munge)
fi
if (( ${#apt_pkgs[@]} )); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian packages: ${apt_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
    else
        say "missing (not root or no apt): ${apt_pkgs[*]} -- CP2K/SLURM parts will be skipped"
    fi
fi

# ---- Python virtual environment ---------------------------------------------
py="${SSBFLOW_PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    "$py" -m venv .venv
fi
stamp=.venv/.ssbflow-deps
want="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
    # torch first, from the local CPU wheel; otherwise pip pulls GBs of CUDA packages.
    say "installing torch (CPU) and ssbflow into .venv"
    .venv/bin/pip install -q torch==2.13.0
    .venv/bin/pip install -q -e ".[test]"
    echo "$want" > "$stamp"
fi

# pymatgen's CP2K basis/potential index is made on first use by ssbflow.engines.cp2k.sets.
say "ready"
