#!/usr/bin/env bash
# Take down the one-node SLURM cluster of scripts/cluster_up.sh: cancel its jobs, stop slurmd, slurmctld
# and munged (each by its pid file). Idempotent: nothing running is not an error. Configs and keys stay.
set -euo pipefail

say() { echo "cluster_down: $*" >&2; }
[[ $(id -u) == 0 ]] || { say "needs root"; exit 2; }

stop() {  # stop the daemon of a pid file and wait for it to go
    local pidfile=$1 pid
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { say "stopped $(basename "$pidfile" .pid)"; return 0; }; sleep 0.1; done
    say "$(basename "$pidfile" .pid) (pid $pid) still running after 10 s"; return 1
}

if command -v scancel >/dev/null && [[ -s /run/slurmctld.pid ]] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null; then
    scancel --full --quiet --user=root 2>/dev/null || true  # this cluster runs only its own test jobs
fi
stop /run/slurmd.pid
stop /run/slurmctld.pid
stop /run/munge/munged.pid
