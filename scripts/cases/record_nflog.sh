#!/usr/bin/env bash
# captures from a firewall's NFLOG group (tcpdump -i nflog:N, link type NFLOG): what the
# router's iptables rules log, not what crossed a wire
source "$(dirname "$0")/lib.sh"
GROUP=53
serve() { dnsmasq_on --listen-address=203.0.113.2 --listen-address=2001:db8:2::2 --address=/$SITE/$SITE_ADDR --address=/$SITE/2001:db8:2::80; }
settle() { sleep 2; capture_stop; }  # (the kernel hands the log over each second, in batches)
log_dns() {  # TABLE-TOOL ACTION: log forwarded DNS both ways, then ACTION the queries
  local tool=$1 action=$2
  nsx $R "$tool" -A FORWARD -p udp --dport 53 -j NFLOG --nflog-group $GROUP --nflog-prefix dns-query
  nsx $R "$tool" -A FORWARD -p udp --sport 53 -j NFLOG --nflog-group $GROUP --nflog-prefix dns-answer
  # shellcheck disable=SC2086 # (the action's words: a target and its options)
  [[ $action == ACCEPT ]] || nsx $R "$tool" -A FORWARD -p udp --dport 53 -j $action
}
nflog_answered() { setup; serve
  log_dns iptables ACCEPT; log_dns ip6tables ACCEPT
  capture_start nflog_answered $R nflog:$GROUP
  for i in 1 2 3; do dg @203.0.113.2 $SITE A +tries=1 +timeout=2; dg @2001:db8:2::2 $SITE AAAA +tries=1 +timeout=2; done
  settle; teardown; }
nflog_dropped() { setup; serve
  log_dns iptables DROP
  capture_start nflog_dropped $R nflog:$GROUP
  dg @203.0.113.2 $SITE A +tries=3 +timeout=2
  settle; teardown; }
nflog_rejected() { setup; serve  # (and the errors the router sends, from its OUTPUT)
  log_dns iptables "REJECT --reject-with icmp-port-unreachable"
  nsx $R iptables -A OUTPUT -p icmp -j NFLOG --nflog-group $GROUP --nflog-prefix refused
  capture_start nflog_rejected $R nflog:$GROUP
  dg @203.0.113.2 $SITE A +tries=3 +timeout=2
  settle; teardown; }
for s in ${@}; do $s; done
