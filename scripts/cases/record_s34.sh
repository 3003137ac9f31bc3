#!/usr/bin/env bash
# 3: SERVFAIL for the site (upstream unreachable), local names answered; 4a REFUSED for site only; 4b NXDOMAIN for site only
source "$(dirname "$0")/lib.sh"
mixed() {  # lookups: 3 local names then site then 1 local
  for n in a b c; do dg @203.0.113.2 $n.intranet.example A +tries=1 +timeout=2; sleep 0.2; done
  dg @203.0.113.2 $SITE A +tries=1 +timeout=8; sleep 0.2
  dg @203.0.113.2 d.intranet.example A +tries=1 +timeout=2
}
s3() { setup; nsx $R iptables -A FORWARD -d 192.0.2.53 -j DROP
  dnsmasq_on --listen-address=203.0.113.2 --address=/intranet.example/192.0.2.10 --server=192.0.2.53
  capture_start servfail_site_local_ok; mixed; capture_stop; teardown; }
s4a() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/intranet.example/192.0.2.10
  capture_start refused_site_local_ok; mixed; capture_stop; teardown; }
s4b() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/intranet.example/192.0.2.10 --local=/$SITE/ --address=/www.$SITE/$SITE_ADDR
  capture_start nxdomain_site_local_ok; mixed; capture_stop; teardown; }
for s in ${@:-s3 s4a s4b}; do $s; done
