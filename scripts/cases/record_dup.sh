#!/usr/bin/env bash
# situation 8: a server answering every query twice
source "$(dirname "$0")/lib.sh"
dup() { local name=$1 gap=$2; setup
  ip netns exec $S timeout 40 python3 "$(dirname "$0")/responder.py" 203.0.113.2 2 $gap 0 & PIDS+=($!); sleep 0.5
  capture_start $name
  for i in 1 2 3; do dg @203.0.113.2 $SITE A +tries=1 +timeout=2; sleep 0.3; done
  capture_stop; teardown; }
dup_fast() { dup dup_fast 0; }
dup_gap() { dup dup_gap 0.2; }
for s in "$@"; do $s; done
