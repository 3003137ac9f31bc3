#!/usr/bin/env bash
# 1a: server rejects TCP/53 with RST (iptables tcp-reset), UDP answered.
# 1b: server drops TCP/53, UDP answered.  1c: nothing on TCP at all (only TCP queries) with tcp-reset by firewall
source "$(dirname "$0")/lib.sh"
tcp_blocked() {  # NAME TARGET...: a TCP lookup between two UDP ones; the server's TCP/53 meets -j TARGET...
  setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $S iptables -A INPUT -p tcp --dport 53 -j "${@:2}"
  capture_start "$1"
  dg @203.0.113.2 $SITE A +tries=1 +timeout=2; sleep 0.5
  dg @203.0.113.2 $SITE A +tcp +tries=2 +timeout=2; sleep 0.5
  dg @203.0.113.2 $SITE A +tries=1 +timeout=2
  capture_stop; teardown; }
s1a() { tcp_blocked tcp_rst_udp_ok REJECT --reject-with tcp-reset; }
s1b() { tcp_blocked tcp_drop_udp_ok DROP; }
s1c() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $R iptables -A FORWARD -p tcp --dport 53 -j REJECT --reject-with tcp-reset
  capture_start tcp_rst_router_only_tcp
  dg @203.0.113.2 $SITE A +tcp +tries=2 +timeout=2
  ping_server
  capture_stop; teardown; }
for s in ${@:-s1a s1b s1c}; do $s; done
