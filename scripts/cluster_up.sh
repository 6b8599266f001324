#!/usr/bin/env bash
# Bring up a one-node SLURM cluster on this Debian machine, as root: munge, slurmctld and slurmd, one
# partition of this node's hostname and CPUs (nproc), no accounting database. Idempotent: run it again and
# a cluster already up with the same slurm.conf is left as it is. Installs the Debian packages if missing.
# Exit status: 0 up (the node idle in sinfo), 2 cannot run here (not root, not Debian), 1 it failed to start.
#   sudo scripts/cluster_up.sh        # then: sinfo; scripts/cluster_down.sh to stop it
set -euo pipefail

CONF=/etc/slurm/slurm.conf
STATE=/var/lib/slurm
LOGS=/var/log/slurm
PARTITION=${DLSTUDY_SLURM_PARTITION:-local}

say() { echo "cluster_up: $*" >&2; }
[[ $(id -u) == 0 ]] || { say "needs root (it installs packages and starts daemons)"; exit 2; }
[[ -f /etc/debian_version ]] || { say "needs a Debian machine (apt-get, Debian's slurm and munge packages)"; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
        || ! command -v munged >/dev/null; then
    say "installing slurmctld slurmd slurm-client munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: one key shared by every daemon and client (here one machine)
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0755 /run/munge /var/lib/munge /var/log/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || { say "munged does not answer"; exit 1; }
fi

host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
wanted=$(cat <<EOF
# Written by dlstudy's scripts/cluster_up.sh: a one-node cluster for the tests; no accounting database.
ClusterName=dlstudy
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=10
# a requeued job waits cred_expire (120 s by default) before it may start again; the scheduler looks every 5 s
AuthInfo=cred_expire=15
SchedulerParameters=sched_interval=5
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)

running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
changed=0
if [[ ! -f $CONF ]] || [[ "$(cat "$CONF")" != "$wanted" ]]; then
    install -d /etc/slurm
    printf '%s\n' "$wanted" > "$CONF"
    changed=1
fi
install -d -o slurm -g slurm "$STATE/slurmctld" "$STATE/slurmd" "$LOGS"

if (( changed )); then  # a daemon started with another config: restart it with this one
    for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
        if running "$pidfile"; then
            pid=$(cat "$pidfile"); kill "$pid"
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
fi
running /run/slurmctld.pid || slurmctld
running /run/slurmd.pid || slurmd

# wait until the node is idle; a node left down or drained by an earlier run is resumed
for i in $(seq 120); do
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null | head -1 || true)
    case $state in
        idle|mixed|allocated) say "node $host ($cpus CPUs, partition $PARTITION) is $state"; exit 0 ;;
        down*|drain*|fail*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
done
say "node $host did not become idle (state: ${state:-none}); see $LOGS/slurmctld.log and $LOGS/slurmd.log"
exit 1
