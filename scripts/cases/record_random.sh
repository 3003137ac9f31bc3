#!/usr/bin/env bash
# random-subdomain queries: names that do not exist under the site, each asked once, while
# the site's own names resolve (below the flood rate, and at it), and a zone the server
# does not have (every name under the site denied: a misconfiguration)
source "$(dirname "$0")/lib.sh"
FLOOD="$(dirname "$0")/../dns_flood.py"
zone() { dnsmasq_on --listen-address=203.0.113.2 --local=/$SITE/ "$@"; }
sources() { SRC=(); for i in $(seq 100 $((99 + $1))); do nsx $C ip addr add 198.51.100.$i/24 dev c0; SRC+=(198.51.100.$i); done; }
site_lookups() { for i in $(seq "$1"); do dg @203.0.113.2 $SITE A +tries=1 +timeout=1; dg @203.0.113.2 www.$SITE A +tries=1 +timeout=1; sleep 0.4; done; }
random_low() { setup; zone --host-record=$SITE,$SITE_ADDR --host-record=www.$SITE,$SITE_ADDR; sources 6
  capture_start random_subdomains_low
  site_lookups 3
  nsx $C timeout 15 python3 "$FLOOD" --server 203.0.113.2 --count 60 --rate 12 --max-seconds 8 --random-subdomains --name $SITE "${SRC[@]}" >/dev/null 2>&1 &
  local f=$!; site_lookups 4; timeout 15 tail --pid=$f -f /dev/null
  site_lookups 3
  capture_stop; teardown; }
random_flood() { setup; zone --host-record=$SITE,$SITE_ADDR --host-record=www.$SITE,$SITE_ADDR; sources 12
  capture_start random_subdomains_flood
  site_lookups 3; sleep 1
  nsx $C timeout 15 python3 "$FLOOD" --server 203.0.113.2 --count 3000 --rate 1000 --max-seconds 5 --random-subdomains --name $SITE "${SRC[@]}" >/dev/null 2>&1
  sleep 1; site_lookups 3
  capture_stop; teardown; }
random_zone_lost() { setup; zone; sources 6
  capture_start random_subdomains_zone_lost
  site_lookups 2
  nsx $C timeout 15 python3 "$FLOOD" --server 203.0.113.2 --count 40 --rate 12 --max-seconds 8 --random-subdomains --name $SITE "${SRC[@]}" >/dev/null 2>&1
  site_lookups 2
  capture_stop; teardown; }
for s in ${@}; do $s; done
