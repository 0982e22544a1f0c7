#!/usr/bin/env bash
# Per-thread CPU ticks and context switches of a running mnist-lab over a window: how much
# the UI, input and signal threads cost, and how often the training workers are switched out.
#
# usage: benches/thread-stats.sh PID [SECONDS]    (default 30; linux only)
set -euo pipefail
pid=$1
window=${2:-30}
snap() {
  for t in /proc/"$pid"/task/*; do
    printf "%s %s %s %s %s\n" "$(basename "$t")" "$(tr ' ' '_' <"$t"/comm)" \
      "$(awk '{print $14 + $15}' "$t"/stat)" \
      "$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t"/status)" \
      "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t"/status)"
  done
}
before=$(snap)
sleep "$window"
after=$(snap)
echo "thread               tid     CPU ticks  involuntary  voluntary   over ${window}s"
join <(sort <<<"$before") <(sort <<<"$after") |
  awk '{printf "%-20s %7s %10d %12d %10d\n", $2, $1, $7 - $3, $8 - $4, $9 - $5}'
