#!/bin/bash
# CI: prove scripts/slurm/sweep_array.sbatch on a real single-node Slurm cluster.
#
# Runs as root on Debian 12 (no systemd needed). Steps:
#   1. install slurmd, slurmctld, slurm-client and munge with apt if slurmctld is missing
#      (if that is impossible: print SKIP and exit 0);
#   2. create a munge key if there is none, start munged;
#   3. write a private slurm.conf (SLURM_CONF, under a temp dir) naming this host (hostname -s)
#      with its CPU count (nproc) and memory, start slurmctld and slurmd, wait for the node to
#      be idle;
#   4. submit the shipped sweep_array.sbatch as a 4-task array with `sbatch --wait`, then its
#      merge step (also through Slurm), and check the merged CSV is byte-identical to an
#      unsharded `archsim sweep` of the same sweep;
#   5. stop the daemons this script started (by pid).
# Exit 0 on PASS or SKIP, 1 on FAIL.
#
# Environment: ARCHSIM (archsim binary; default target/release/archsim, else target/debug/archsim,
# else built with `cargo build --release --bin archsim`), ARCHSIM_SLURM_KEEP=1 keeps the temp dir,
# ARCHSIM_SLURM_CONFIG / ARCHSIM_SLURM_SWEEP replace the base config and sweep file (default: the
# 42-point examples/sweeps/scalesim_dataflow.toml on calc_128x128_os.cfg).

set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

say() { echo "[slurm-ci] $*"; }
skip() { say "SKIP: $*"; exit 0; }
fail() {
    say "FAIL: $*"
    for f in "${work:-/nonexistent}"/*.log "${work:-/nonexistent}"/slurm-*.out; do
        [ -f "$f" ] && { echo "----- $f (last 40 lines)"; tail -n 40 "$f"; }
    done
    exit 1
}

# --- the archsim binary ------------------------------------------------------------------
archsim="${ARCHSIM:-}"
if [ -z "$archsim" ]; then
    if [ -x target/release/archsim ]; then archsim="$repo/target/release/archsim"
    elif [ -x target/debug/archsim ]; then archsim="$repo/target/debug/archsim"
    else
        say "building archsim (cargo build --release --bin archsim)"
        cargo build --release --bin archsim -q || fail "cannot build archsim"
        archsim="$repo/target/release/archsim"
    fi
fi
case "$archsim" in /*) ;; *) archsim="$repo/$archsim" ;; esac
[ -x "$archsim" ] || fail "archsim binary $archsim is not executable"

# --- 1. install ------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 \
    || ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || skip "Slurm is not installed and we are not root to install it"
    command -v apt-get >/dev/null 2>&1 || skip "Slurm is not installed and there is no apt-get"
    say "installing slurmd slurmctld slurm-client munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        slurmd slurmctld slurm-client munge; } >/tmp/archsim-slurm-apt.log 2>&1; then
        tail -n 20 /tmp/archsim-slurm-apt.log
        skip "apt-get could not install Slurm (log: /tmp/archsim-slurm-apt.log)"
    fi
fi
[ "$(id -u)" = 0 ] || skip "starting slurmctld/slurmd needs root"
say "$(slurmctld -V 2>/dev/null || echo 'slurm ?'), $(munged --version 2>&1 | head -n 1)"

work="$(mktemp -d /tmp/archsim-slurm.XXXXXX)"
chmod 755 "$work"
pids=()
started_munged=0
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    if [ "$started_munged" = 1 ] && [ -f /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null
    fi
    if [ "${ARCHSIM_SLURM_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- 2. munge --------------------------------------------------------------------------
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
    say "creating $key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile="$key" --force >/dev/null
    else dd if=/dev/urandom of="$key" bs=1 count=1024 status=none; fi
fi
munge_user=root
id munge >/dev/null 2>&1 && munge_user=munge
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown "$munge_user" /run/munge /var/lib/munge /var/log/munge "$key"
chmod 400 "$key"; chmod 700 /etc/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
else
    say "starting munged (as $munge_user)"
    if [ "$munge_user" = munge ]; then runuser -u munge -- munged >"$work/munged-start.log" 2>&1
    else munged --force >"$work/munged-start.log" 2>&1; fi || fail "munged did not start: $(cat "$work/munged-start.log")"
    started_munged=1
    for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n </dev/null | unmunge >/dev/null 2>&1 || fail "munge credential round trip fails"
fi

# --- 3. slurm.conf and daemons ---------------------------------------------------------
host="$(hostname -s)"
cpus="$(nproc)"
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# archsim CI: single-node cluster on $host
ClusterName=archsimci
SlurmctldHost=$host
SlurmctldPort=${ARCHSIM_SLURMCTLD_PORT:-6817}
SlurmdPort=${ARCHSIM_SLURMD_PORT:-6818}
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
SlurmdTimeout=60
MinJobAge=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
say "slurm.conf: node $host, CPUs=$cpus, RealMemory=${mem_mb} MB ($SLURM_CONF)"

slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.stdout.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.stdout.log" 2>&1 &
pids+=($!)

state=""
for _ in $(seq 120); do
    state="$(sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1)"
    case "$state" in
        idle) break ;;
        down*|drain*|drained*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 ;;
    esac
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "a Slurm daemon exited (pid $p)"; done
    sleep 0.5
done
[ "$state" = idle ] || fail "node $host not idle after 60 s (state: ${state:-none})"
say "node $host is idle"

# --- 4. the job array, the merge step, the unsharded reference --------------------------
config="${ARCHSIM_SLURM_CONFIG:-tests/data/scalesim/configs/calc_128x128_os.cfg}"
sweep="${ARCHSIM_SLURM_SWEEP:-examples/sweeps/scalesim_dataflow.toml}"
shards="$work/shards"
SECONDS=0
say "sbatch --wait --array=0-3 scripts/slurm/sweep_array.sbatch --config $config --sweep $sweep"
ARCHSIM="$archsim" timeout 600 sbatch --wait --array=0-3 --chdir="$repo" \
    --output="$work/slurm-%A_%a.out" --export=ALL,ARCHSIM="$archsim" \
    scripts/slurm/sweep_array.sbatch --config "$config" --sweep "$sweep" --dir "$shards" \
    >"$work/sbatch.log" 2>&1 || fail "job array failed: $(cat "$work/sbatch.log")"
say "$(head -n 1 "$work/sbatch.log"); array finished in ${SECONDS} s"
for f in "$work"/slurm-*.out; do sed 's/^/    /' "$f"; done

timeout 300 sbatch --wait --chdir="$repo" --output="$work/slurm-merge.out" \
    --export=ALL,ARCHSIM="$archsim" \
    scripts/slurm/sweep_array.sbatch --merge --dir "$shards" --out "$work/merged.csv" \
    >"$work/sbatch-merge.log" 2>&1 || fail "merge job failed: $(cat "$work/sbatch-merge.log")"
say "merge job: $(head -n 1 "$work/sbatch-merge.log"); $(cat "$work/slurm-merge.out")"

"$archsim" sweep --config "$config" --sweep "$sweep" --out "$work/unsharded.csv" -q \
    || fail "unsharded reference run failed"
points=$(($(wc -l <"$work/unsharded.csv") - 1))
cmp "$work/merged.csv" "$work/unsharded.csv" \
    || fail "merged shards differ from the unsharded run"
say "PASS: 4-task Slurm array + merge == unsharded run, byte-identical ($points points, $(wc -c <"$work/merged.csv") bytes)"
exit 0
