#!/usr/bin/env bash
# The study on a real Slurm: a single-node cluster on this machine (munged, slurmctld and slurmd
# from Debian's munge and slurm-wlm, loopback only, every file in a temporary folder), the quick
# study submitted as `pitlane study --emit slurm` writes it (a prepare job, a job array of shards,
# the merge after them), then the merged results.json compared with an unsharded run of the same
# config: equal apart from the values under "wall_clock" keys (measurements) and runs_dir. The
# daemons this script started are stopped on exit, whatever happens.
#
#   scripts/test-slurm.sh [BUILD_DIR] [SHARDS]      (defaults: build, 2)
#
# A missing package fails the test (scripts/install-deps.sh installs them): it never skips.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
shards="${2:-2}"
pitlane="$build/pitlane"
config="$root/configs/quick.yaml"

fail() { echo "test-slurm: $*" >&2; exit 1; }
[ -x "$pitlane" ] || fail "$pitlane not found: run scripts/build.sh first"
for tool in munged slurmctld slurmd sbatch squeue scontrol node; do
  command -v "$tool" >/dev/null || fail "$tool not found: run scripts/install-deps.sh"
done
# slurmd starts jobs as their user and must run as root: as another user, run the whole test
# through sudo when it needs no password (as scripts/install-deps.sh does for apt).
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "slurmd must start as root: run as root or with passwordless sudo"
  exec sudo -n "$0" "$build" "$shards"
fi

work="$(mktemp -d /tmp/pitlane-slurm.XXXXXX)"
chmod 755 "$work"
pids=()
stop_daemons() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap 'stop_daemons; rm -rf "$work"' EXIT

# munge: its own key, socket and state, so a munged of the machine is left alone.
mkdir -p "$work/munge"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
[ -s "$work/munge/munged.pid" ] || fail "munged did not start: $(cat "$work/munge/munged.log")"
pids+=("$(cat "$work/munge/munged.pid")")

# Free loopback ports for slurmctld and slurmd.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
ctld_port="$(free_port)"
slurmd_port="$(free_port)"
[ "$ctld_port" != "$slurmd_port" ] || slurmd_port="$((slurmd_port + 1))"

host="$(hostname -s)"
cpus="$(nproc)"
memory_mb="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$work/slurm.conf" <<EOF
ClusterName=pitlane-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" > "$work/log/slurmctld.out" 2>&1 &
pids+=("$!")
slurmd -D -f "$SLURM_CONF" -N "$host" > "$work/log/slurmd.out" 2>&1 &
pids+=("$!")
ready=""
for _ in $(seq 100); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then ready=1; break; fi
  sleep 0.3
done
[ -n "$ready" ] || {
  tail -20 "$work/log/slurmctld.log" "$work/log/slurmd.log" >&2 || true
  fail "the single-node cluster did not come up (logs above)"
}
echo "test-slurm: cluster up (slurmctld :$ctld_port, slurmd :$slurmd_port, $cpus CPUs)"

# The sharded study, as a user submits it.
runs="$work/runs"
start=$(date +%s)
"$pitlane" study "$config" --runs-dir "$runs" --emit slurm --shards "$shards" > "$work/emit.log"
script="$runs/quick/slurm.sh"
[ -x "$script" ] || fail "pitlane study --emit slurm wrote no $script"
submitted="$(bash "$script")"
echo "test-slurm: submitted $submitted"
merge_job="${submitted##*merge=}"
deadline=$((start + 1500))
state=""
while :; do
  state="$(scontrol show job "$merge_job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
  case "$state" in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) break ;;
  esac
  if squeue -h -j "$merge_job" -o '%r' 2>/dev/null | grep -q DependencyNeverSatisfied; then
    state="DEPENDENCY_NEVER_SATISFIED"
    break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { state="still ${state:-unknown} after 25 minutes"; break; }
  sleep 2
done
sharded_s=$(($(date +%s) - start))
if [ "$state" != COMPLETED ]; then
  for log in "$runs/quick/slurm-logs"/*; do echo "== $log"; tail -20 "$log"; done >&2
  fail "the merge job $merge_job ended $state (the jobs' logs above)"
fi
echo "test-slurm: prepare, $shards shards and the merge done in ${sharded_s} s"
for i in $(seq 0 $((shards - 1))); do
  [ -f "$runs/quick/shards/$i-of-$shards.json" ] || fail "shard $i wrote no manifest"
done
[ -f "$runs/quick/report.html" ] || fail "the merge wrote no report.html"

# The same config unsharded, then the two results compared.
start=$(date +%s)
"$pitlane" study "$config" --runs-dir "$work/whole" --quiet --no-report > "$work/whole.log" ||
  { cat "$work/whole.log"; fail "the unsharded study failed"; }
whole_s=$(($(date +%s) - start))
echo "test-slurm: the unsharded study took ${whole_s} s"
node - "$work/whole/quick/results.json" "$runs/quick/results.json" <<'EOF'
const fs = require("fs");
const strip = (v) => {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (k !== "wall_clock" && k !== "runs_dir") out[k] = strip(x);
    return out;
  }
  return v;
};
const [a, b] = process.argv.slice(2).map((p) => JSON.stringify(strip(JSON.parse(fs.readFileSync(p))), null, 2));
if (a !== b) {
  const al = a.split("\n"), bl = b.split("\n");
  const i = al.findIndex((line, k) => line !== bl[k]);
  console.error(`test-slurm: the merged results.json differs from the unsharded run's at line ${i + 1}:\n  ${al[i]}\n  ${bl[i]}`);
  process.exit(1);
}
console.log("test-slurm: merged results.json equals the unsharded run's (apart from wall-clock values)");
EOF
echo "test-slurm: passed (sharded on Slurm ${sharded_s} s, unsharded ${whole_s} s)"
