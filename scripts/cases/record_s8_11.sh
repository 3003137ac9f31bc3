#!/usr/bin/env bash
source "$(dirname "$0")/lib.sh"
s8() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  capture_start failover_dead_resolver
  for i in 1 2 3; do dg @203.0.113.9 $SITE A +tries=1 +timeout=1; dg @203.0.113.2 $SITE A +tries=1 +timeout=2; sleep 0.3; done
  capture_stop; teardown; }
s9() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR --cache-size=0
  nsx $S iptables -A INPUT -p udp --dport 53 -m limit --limit 50/s --limit-burst 20 -j ACCEPT
  nsx $S iptables -A INPUT -p udp --dport 53 -j DROP
  local src=(); for i in $(seq 100 111); do nsx $C ip addr add 198.51.100.$i/24 dev c0; src+=(198.51.100.$i); done
  capture_start flood_ratelimited
  for i in 1 2; do dg @203.0.113.2 $SITE A +tries=1 +timeout=1; sleep 1; done
  nsx $C timeout 10 python3 "$(dirname "$0")/../dns_flood.py" --server 203.0.113.2 --count 300 --rate 600 --max-seconds 3 --name $SITE "${src[@]}" >/dev/null 2>&1
  sleep 1; for i in 1 2; do dg @203.0.113.2 $SITE A +tries=1 +timeout=1; sleep 1; done
  capture_stop; teardown; }
s10() { setup
  ip netns exec $S timeout 40 python3 "$(dirname "$0")/responder.py" 203.0.113.2 1 0 1 & PIDS+=($!); sleep 0.5
  capture_start wrong_dns_id
  dg @203.0.113.2 $SITE A +tries=2 +timeout=2; ping_server
  capture_stop; teardown; }
s11() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR --address=/intranet.example/192.0.2.10 --mx-host=$SITE,mail.$SITE,10
  nsx $C ip addr add 198.51.100.16/24 dev c0
  capture_start healthy_mixed_types
  dg @203.0.113.2 $SITE A +tries=1; sleep 0.2
  dg @203.0.113.2 $SITE AAAA +tries=1; sleep 0.2
  dg @203.0.113.2 -b 198.51.100.16 $SITE MX +tries=1; sleep 0.2
  dg @203.0.113.2 -b 198.51.100.16 www.intranet.example A +tries=1; sleep 0.2
  dg @203.0.113.2 $SITE A +tcp +tries=1
  capture_stop; teardown; }
for s in ${@}; do $s; done
