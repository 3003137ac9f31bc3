#!/usr/bin/env bash
# a large UDP answer (a 3000-byte TXT record, EDNS buffer 4096) fragmented on the way, its
# later fragments dropped by the router (iptables -f): the client gets the first only
source "$(dirname "$0")/lib.sh"
frag_dropped() { setup
  local txt; txt=$(printf 'v=%.0s0123456789abcdef' $(seq 12)); local args=()
  for i in $(seq 12); do args+=(--txt-record=big.$SITE,"$txt$i"); done
  dnsmasq_on --listen-address=203.0.113.2 --edns-packet-max=4096 --address=/$SITE/$SITE_ADDR "${args[@]}"
  nsx $R iptables -A FORWARD -f -j DROP
  capture_start frag_later_dropped
  dg @203.0.113.2 $SITE A +tries=1 +timeout=1
  dg @203.0.113.2 big.$SITE TXT +bufsize=4096 +tries=3 +timeout=1 +ignore
  dg @203.0.113.2 $SITE A +tries=1 +timeout=1
  capture_stop; teardown; }
for s in ${@}; do $s; done
