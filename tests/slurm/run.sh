#!/bin/bash
# The Slurm test: a single-node cluster (munged, slurmctld, slurmd) started here, a 4-task
# job array of a tiny preset submitted into one run folder with examples/slurm/array.sbatch,
# then checks: every unit complete exactly once (each trained by one task), and the table
# equals a single-process run of the same preset. Installs slurm-wlm and munge from Debian's
# registry if they are missing; stops the daemons it started, by PID.
#
# A step of .ci/run, not of `cargo test` (which installs nothing and starts no daemon).
#
# usage: tests/slurm/run.sh [path to the mnist-lab binary]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/release/mnist-lab}
# Absolute: the jobs and steps below run from other folders.
bin=$(realpath "$bin" 2>/dev/null || echo "$bin")
[ -x "$bin" ] || { echo "slurm test: no mnist-lab binary at $bin (cargo build --release)" >&2; exit 2; }

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm test: installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # Pinned to Debian 12's versions; where the mirror no longer has them, the current ones.
    apt-get install -y -qq slurm-wlm=22.05.8-4+deb12u3 munge=0.5.15-2+deb12u1 >/dev/null 2>&1 ||
        apt-get install -y -qq slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/mnist-lab-slurm.XXXXXX)
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
}
trap stop EXIT

# munge: our own key, socket and files, so nothing of the machine's is touched.
mkdir -p "$work/munge"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
sock="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$sock" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/log"
conf="$work/slurm.conf"
cat > "$conf" <<CONF
ClusterName=mnistlab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf" -N "$host"
for _ in $(seq 100); do
    [ -s "$work/slurmctld.pid" ] && [ -s "$work/slurmd.pid" ] && break
    sleep 0.1
done
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")

# Up when the node is idle.
for _ in $(seq 150); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.2
done
echo "== sinfo"
sinfo

# A tiny preset of 6 units (3 variants x 2 seeds): a few seconds each.
cat > "$work/tiny.ron" <<'RON'
(name: "slurm-tiny", defaults: (arch: "128-64", epochs: 2, train_subset: 2000,
    test_subset: 500, seed: 11, seeds: 2),
    variants: [(name: "every", placement: Every), (name: "none", placement: None),
               (name: "last", placement: Last)])
RON

run_dir="$work/shared-run"
cd "$work"
echo "== sbatch --array=0-3"
job=$(MNIST_LAB="$bin" sbatch --parsable --wait --array=0-3 --cpus-per-task=1 \
    --export=ALL,MNIST_LAB="$bin",MNIST_LAB_DATA="${MNIST_LAB_DATA:-$root/data/mnist}" \
    "$root/examples/slurm/array.sbatch" "$work/tiny.ron" "$run_dir") || {
    echo "slurm test: the array failed"; cat "$work"/mnist-lab-*.out || true
    tail -20 "$work/log/slurmctld.log" "$work/log/slurmd.log" || true; exit 1; }
job=${job%%;*}
echo "== the array's states (job $job)"
scontrol -o show job "$job" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayJobId|ArrayTaskId|JobState|BatchHost)=/) printf "%s ", $i; print ""}' | sort
if scontrol -o show job "$job" | grep -v "JobState=COMPLETED"; then
    echo "slurm test: a task did not complete"; cat "$work"/mnist-lab-*.out; exit 1
fi

# Every unit complete exactly once: each finished unit file, each unit trained by one task.
trained=$(cat "$work"/mnist-lab-"${job}"_*.out | grep -c " done in " || true)
units=$(ls "$run_dir"/units/*.json | wc -l)
finished=$(grep -l '"status": "Finished"' "$run_dir"/units/*.json | wc -l)
echo "== $units unit files, $finished finished, $trained trainings in the tasks' logs"
[ "$units" = 6 ] && [ "$finished" = 6 ] && [ "$trained" = 6 ] || {
    cat "$work"/mnist-lab-*.out; echo "slurm test: units not complete exactly once"; exit 1; }

# The same table as one process training the whole preset.
MNIST_LAB_DATA="${MNIST_LAB_DATA:-$root/data/mnist}" "$bin" run "$work/tiny.ron" --run-dir "$work/single" >/dev/null
"$bin" export "$run_dir" --to "$work/exp-array" >/dev/null
"$bin" export "$work/single" --to "$work/exp-single" >/dev/null
echo "== the table (job array)"
sed '/^## Over seeds/q' "$work/exp-array/summary.md" | grep '^|' 
if ! diff "$work/exp-array/summary.csv" "$work/exp-single/summary.csv"; then
    echo "slurm test: the array's table differs from a single-process run"; exit 1
fi
echo "slurm test: passed (the array's table equals a single-process run's)"
rm -rf "$work"
