#!/usr/bin/env bash
# TUI overhead on a whole preset: headless and TUI (in tmux) runs in alternating order, each
# timed from launch until every unit file says the unit ended. Nothing is spawned while a run
# is timed (the wait is one Python process reading the files twice a second).
#
# usage: benches/tui-overhead.sh PAIRS PRESET [RUN OPTIONS...]
#   e.g. benches/tui-overhead.sh 2 paper-2019
# Needs a release build (cargo build --release), tmux and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=$1
shift
bin=./target/release/mnist-lab
work=$(mktemp -d)
trap 'tmux -L overhead kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

wait_complete() {
  python3 - "$1" <<'PY'
import glob, json, sys, time
# Complete when every unit of the manifest has a unit file that says it ended.
while True:
    for f in glob.glob(sys.argv[1] + '/*/run.json'):
        try:
            units = len(json.load(open(f))["variants"])
            ended = 0
            for u in glob.glob(f[:-len('run.json')] + 'units/*.json'):
                if json.load(open(u))["status"] in ("Finished", "Failed", "Skipped"):
                    ended += 1
            if ended == units:
                sys.exit(0)
        except (OSError, ValueError, KeyError):
            pass
    time.sleep(0.5)
PY
}

training_seconds() {
  python3 -c 'import json,glob,sys; print(round(sum(json.load(open(u)).get("seconds") or 0 for u in glob.glob(sys.argv[1]+"/*/units/*.json")), 2))' "$1"
}

headless() {
  local runs=$work/headless-$1
  local s e
  s=$(date +%s.%N)
  "$bin" run "${@:2}" --runs-dir "$runs" >/dev/null
  e=$(date +%s.%N)
  echo "headless $(echo "$e - $s" | bc) $(training_seconds "$runs")"
}

tui() {
  local runs=$work/tui-$1
  local s e
  s=$(date +%s.%N)
  tmux -L overhead new-session -d -s overhead -x 120 -y 36 "$bin tui ${*:2} --runs-dir $runs"
  wait_complete "$runs"
  e=$(date +%s.%N)
  tmux -L overhead kill-server 2>/dev/null || true
  echo "tui $(echo "$e - $s" | bc) $(training_seconds "$runs")"
}

echo "pair  headless wall (training)  TUI wall (training)  overhead"
for i in $(seq "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then
    h=$(headless "$i" "$@"); u=$(tui "$i" "$@")
  else
    u=$(tui "$i" "$@"); h=$(headless "$i" "$@")
  fi
  read -r _ hw ht <<<"$h"
  read -r _ uw ut <<<"$u"
  printf "%4d  %8.1f s (%8.1f s)    %8.1f s (%8.1f s)  %+5.1f%%\n" "$i" "$hw" "$ht" "$uw" "$ut" \
    "$(echo "($uw / $hw - 1) * 100" | bc -l)"
done
