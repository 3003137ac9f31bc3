#!/usr/bin/env bash
# 2a: big TXT answer, no EDNS -> TC, TCP retry answered (healthy).  2b: EDNS big answers dropped by server OUTPUT length rule, TXT only, A answered
# 2c: big answers dropped, only TXT lookups (the whole failing traffic), pings answered
source "$(dirname "$0")/lib.sh"
TXT=(); for i in 1 2 3 4 5 6 7 8; do TXT+=("--txt-record=$SITE,site-verification-$i=$(printf 'txt%s' $i | sha256sum | cut -c1-64)"); done
s2a() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR "${TXT[@]}"
  capture_start tc_tcp_retry_ok
  dg @203.0.113.2 $SITE TXT +noedns +tries=1 +timeout=2; sleep 0.3
  dg @203.0.113.2 $SITE A +noedns +tries=1 +timeout=2
  capture_stop; teardown; }
s2b() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR "${TXT[@]}"
  nsx $S iptables -A OUTPUT -p udp --sport 53 -m length --length 600:65535 -j DROP
  capture_start big_udp_dropped_mixed
  dg @203.0.113.2 $SITE A +tries=1 +timeout=2; sleep 0.3
  dg @203.0.113.2 $SITE TXT +tries=2 +timeout=2; sleep 0.3
  dg @203.0.113.2 $SITE A +tries=1 +timeout=2
  capture_stop; teardown; }
s2c() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR "${TXT[@]}"
  nsx $S iptables -A OUTPUT -p udp --sport 53 -m length --length 600:65535 -j DROP
  capture_start big_udp_dropped_only
  dg @203.0.113.2 $SITE TXT +tries=3 +timeout=2; sleep 0.3
  ping_server
  capture_stop; teardown; }
for s in ${@:-s2a s2b s2c}; do $s; done
