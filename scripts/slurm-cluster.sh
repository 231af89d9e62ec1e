#!/usr/bin/env bash
# A local one-node SLURM cluster for the test suite (no systemd needed).
#
# Usage: bash scripts/slurm-cluster.sh start|stop|status|restart-ctld
#   start         start munged, slurmctld and slurmd if they are not running (idempotent)
#   stop          stop the daemons this script started (by their PID files)
#   status        print the state of the daemons and of the node; exit 1 if not usable
#   stop-ctld     stop only slurmctld (tests of remote errors); `start` brings it back
#
# State (slurm.conf, PID files, spool, logs) lives in $SSBFLOW_SLURM_DIR
# (default /tmp/ssbflow-slurm). The configuration is linked as /etc/slurm/slurm.conf so the
# client commands (sbatch, squeue, scontrol) find it. Needs root and the Debian packages
# slurm-wlm slurmctld slurmd slurm-client munge (`bash scripts/bootstrap.sh --slurm`).
set -euo pipefail

state_dir="${SSBFLOW_SLURM_DIR:-/tmp/ssbflow-slurm}"
conf="$state_dir/slurm.conf"
ctld_pid="$state_dir/slurmctld.pid"
slurmd_pid="$state_dir/slurmd.pid"
munge_pid_file=/run/munge/munged.pid

say() { printf '[slurm-cluster] %s\n' "$*" >&2; }

alive() {  # alive PIDFILE: the daemon named in PIDFILE runs (not a reused PID)
    local pid
    [[ -s $1 ]] || return 1
    pid="$(cat "$1")"
    kill -0 "$pid" 2>/dev/null || return 1
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
        slurmctld|slurmd|munged) return 0 ;;
        *) return 1 ;;
    esac
}

write_conf() {
    local host cpus mem_mb
    host="$(hostname -s)"
    cpus="$(nproc --all)"  # not nproc: it follows OMP_NUM_THREADS
    mem_mb=$(( $(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo) - 2048 ))
    (( mem_mb < 512 )) && mem_mb=512
    mkdir -p "$state_dir/spool/ctld" "$state_dir/spool/d" "$state_dir/log"
    cat > "$conf.new" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node cluster for tests.
ClusterName=ssbflow
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state_dir/log/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=5
StateSaveLocation=$state_dir/spool/ctld
SlurmdSpoolDir=$state_dir/spool/d
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$state_dir/log/slurmctld.log
SlurmdLogFile=$state_dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    if [[ ! -f $conf ]] || ! cmp -s "$conf" "$conf.new"; then
        conf_changed=1
        mv "$conf.new" "$conf"
    else
        rm -f "$conf.new"
    fi
    mkdir -p /etc/slurm
    ln -sfn "$conf" /etc/slurm/slurm.conf
}

start_munge() {
    if alive "$munge_pid_file"; then
        return 0
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating /etc/munge/munge.key"
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    runuser -u munge -- /usr/sbin/munged
}

wait_node_idle() {  # up to ~20 s for the node to accept jobs
    local i state
    for i in $(seq 1 100); do
        state="$(sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true)"
        case "$state" in
            idle|mix|alloc|comp) return 0 ;;
            down*|drain*|fail*)
                scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 0.2
    done
    say "node not idle after 20 s (state: ${state:-none}); see $state_dir/log"
    return 1
}

start() {
    for exe in slurmctld slurmd munged sbatch; do
        if ! command -v "$exe" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$exe ]]; then
            say "$exe not installed: run 'bash scripts/bootstrap.sh --slurm' as root"
            return 1
        fi
    done
    if [[ $(id -u) -ne 0 ]]; then
        say "must run as root (slurmd runs jobs as their users)"
        return 1
    fi
    conf_changed=0
    write_conf
    if (( conf_changed )); then  # daemons of another config would disagree (node INVAL)
        stop_one "$slurmd_pid" slurmd
        stop_one "$ctld_pid" slurmctld
    fi
    start_munge
    alive "$ctld_pid" || slurmctld -f "$conf"
    alive "$slurmd_pid" || slurmd -f "$conf"
    wait_node_idle
    say "running ($(hostname -s), $(nproc --all) CPUs; state in $state_dir)"
}

stop_one() {  # stop_one PIDFILE NAME
    local pid i
    alive "$1" || { rm -f "$1"; return 0; }
    pid="$(cat "$1")"
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    rm -f "$1"
    say "stopped $2"
}

status() {
    local rc=0
    for pair in "slurmctld:$ctld_pid" "slurmd:$slurmd_pid" "munged:$munge_pid_file"; do
        if alive "${pair#*:}"; then
            echo "${pair%%:*}: running (pid $(cat "${pair#*:}"))"
        else
            echo "${pair%%:*}: stopped"
            rc=1
        fi
    done
    if (( rc == 0 )); then
        sinfo -h -N -o 'node %N: %t, %c CPUs, %m MB' 2>/dev/null || rc=1
    fi
    return $rc
}

case "${1:-}" in
    start) start ;;
    stop)
        stop_one "$slurmd_pid" slurmd
        stop_one "$ctld_pid" slurmctld
        ;;
    stop-ctld) stop_one "$ctld_pid" slurmctld ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status|stop-ctld" >&2; exit 2 ;;
esac
