#!/usr/bin/env bash
# situation 6: the client's own firewall drops the answers
source "$(dirname "$0")/lib.sh"
clientfw() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $C iptables -A INPUT -p udp --sport 53 -j DROP
  capture_start clientfw
  for i in 1 2; do dg @203.0.113.2 $SITE A +tries=3 +timeout=1; sleep 0.3; done
  capture_stop; teardown; }
clientfw_reject() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $C iptables -A INPUT -p udp --sport 53 -j REJECT
  capture_start clientfw_reject
  for i in 1 2; do dg @203.0.113.2 $SITE A +tries=2 +timeout=1; sleep 0.3; done
  capture_stop; teardown; }
for s in "$@"; do $s; done
