#!/usr/bin/env bash
# queries sent with a TTL (hop limit) of 1 through the router: time exceeded from the router
source "$(dirname "$0")/lib.sh"
ttl1() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  capture_start ttl1
  nsx $C timeout 20 python3 "$(dirname "$0")/ttlq.py" 203.0.113.2 $SITE 1 3 1
  ping_server
  capture_stop; teardown; }
ttl1_v6() { setup; dnsmasq_on --listen-address=2001:db8:2::2 --address=/$SITE/2001:db8:2::80
  capture_start ttl1_v6
  nsx $C timeout 20 python3 "$(dirname "$0")/ttlq.py" 2001:db8:2::2 $SITE 1 3 1
  nsx $C timeout 10 ping -6 -c 2 -i 0.5 -W 2 2001:db8:2::2 >/dev/null 2>&1
  capture_stop; teardown; }
for s in "$@"; do $s; done
