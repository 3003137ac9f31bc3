#!/usr/bin/env bash
source "$(dirname "$0")/lib.sh"
s3b() { setup; nsx $R iptables -A FORWARD -d 192.0.2.53 -j REJECT --reject-with icmp-port-unreachable
  dnsmasq_on --listen-address=203.0.113.2 --address=/intranet.example/192.0.2.10 --server=192.0.2.53
  capture_start servfail2_site_local_ok
  for n in a b c; do dg @203.0.113.2 $n.intranet.example A +tries=1 +timeout=2; sleep 0.2; done
  dg @203.0.113.2 $SITE A +tries=1 +timeout=4
  capture_stop; teardown; }
s5() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $R iptables -A FORWARD -p udp --dport 53 -m statistic --mode random --probability 0.3 -j DROP
  capture_start loss30_random
  for i in $(seq 12); do dg @203.0.113.2 $SITE A +tries=1 +timeout=1; sleep 0.2; done
  ping_server
  capture_stop; teardown; }
s5b() { setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $R iptables -A FORWARD -p udp --dport 53 -m statistic --mode random --probability 0.3 -j DROP
  capture_start loss30_retries
  for i in $(seq 6); do dg @203.0.113.2 $SITE A +tries=3 +timeout=1; sleep 0.2; done
  capture_stop; teardown; }
s6() { local name=$1 how=$2; setup; dnsmasq_on --listen-address=203.0.113.2 --address=/$SITE/$SITE_ADDR
  nsx $R iptables -A FORWARD -p udp --dport 53 -j REJECT --reject-with $how
  capture_start $name; dg @203.0.113.2 $SITE A +tries=2 +timeout=2; ping_server; capture_stop; teardown; }
s6a() { s6 rej_net_unreachable icmp-net-unreachable; }
s6b() { s6 rej_host_unreachable icmp-host-unreachable; }
s6c() { s6 rej_proto_unreachable icmp-proto-unreachable; }
s6d() { setup; dnsmasq_on --listen-address=2001:db8:2::2 --address=/$SITE/2001:db8:2::80
  nsx $S ip6tables -A INPUT -p udp --dport 53 -j REJECT
  capture_start rej6_server_default; dg -6 @2001:db8:2::2 $SITE AAAA +tries=2 +timeout=2; ping_server 2001:db8:2::2; capture_stop; teardown; }
s6e() { setup; dnsmasq_on --listen-address=2001:db8:2::2 --address=/$SITE/2001:db8:2::80
  nsx $R ip6tables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp6-addr-unreachable
  capture_start rej6_router_addr_unreach; dg -6 @2001:db8:2::2 $SITE AAAA +tries=2 +timeout=2; ping_server 2001:db8:2::2; capture_stop; teardown; }
s6f() { setup; dnsmasq_on --listen-address=2001:db8:2::2 --address=/$SITE/2001:db8:2::80
  nsx $R ip6tables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp6-no-route
  capture_start rej6_router_no_route; dg -6 @2001:db8:2::2 $SITE AAAA +tries=2 +timeout=2; ping_server 2001:db8:2::2; capture_stop; teardown; }
s7a() { setup; dnsmasq_on --listen-address=203.0.113.2 --port=5300 --address=/$SITE/$SITE_ADDR
  capture_start port5300_healthy
  for i in 1 2 3; do dg @203.0.113.2 -p 5300 $SITE A +tries=1 +timeout=2; sleep 0.2; done
  capture_stop; teardown; }
s7b() { setup; dnsmasq_on --listen-address=203.0.113.2 --port=5300 --address=/$SITE/$SITE_ADDR
  capture_start port5300_std_closed
  for i in 1 2 3; do dg @203.0.113.2 -p 5300 $SITE A +tries=1 +timeout=2; sleep 0.2; done
  dg @203.0.113.2 $SITE A +tries=2 +timeout=2
  capture_stop; teardown; }
for s in ${@}; do $s; done
