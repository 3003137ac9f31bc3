#!/usr/bin/env bash
# an outage in the middle of a capture: lookups answered, then failing for a while, then
# answered again (the service restarted; a REJECT rule, and a DROP rule, put in and out)
source "$(dirname "$0")/lib.sh"
serve() { dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR; DNSMASQ=${PIDS[-1]}; }
lookups() { for i in $(seq "$1"); do dg @203.0.113.2 $SITE A +tries=1 +timeout=1; sleep 0.3; done; }
outage_restart() { setup; serve
  capture_start outage_service_restart
  lookups 4
  kill "$DNSMASQ"; timeout 5 tail --pid="$DNSMASQ" -f /dev/null
  lookups 3
  serve; lookups 4
  capture_stop; teardown; }
outage_reject() { setup; serve
  capture_start outage_reject_window
  lookups 4
  nsx $R iptables -I FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited
  lookups 3
  nsx $R iptables -D FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited
  lookups 4
  capture_stop; teardown; }
outage_drop() { setup; serve
  capture_start outage_drop_window
  lookups 4
  nsx $R iptables -I FORWARD -p udp --dport 53 -j DROP
  lookups 3
  nsx $R iptables -D FORWARD -p udp --dport 53 -j DROP
  lookups 4
  capture_stop; teardown; }
for s in ${@}; do $s; done
