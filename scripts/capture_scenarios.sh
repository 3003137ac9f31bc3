#!/usr/bin/env bash
# Re-record the scenario library in data/scenarios/ with real tools.
#
# Three test hosts on this machine, in network namespaces joined by veth pairs:
#
#   client 198.51.100.15 / 2001:db8:1::15  --  router 198.51.100.1 | 203.0.113.1
#                                              2001:db8:1::1 | 2001:db8:2::1  --  server 203.0.113.2 / 2001:db8:2::2
#
# 198.51.100.53 and 2001:db8:1::53, on the client's own segment, are held by no host (the
# local host-down scenarios ask them). 203.0.113.3 is a second server address, added only
# by the wrong-source scenario.
#
# For each scenario: build the hosts, start tcpdump -w on the client's interface, make
# the failure (dnsmasq, iptables, ip link, or a user-space helper: dns_flood.py,
# retry_storm.py, slow_dns.py), let the client look the site up with dig (and ping where
# an analyst would), stop, tear everything down. No packet leaves the namespaces; every
# wait and loop is bounded. Needs root (make captures runs it).
#
# Usage: scripts/capture_scenarios.sh [OUTDIR] [SCENARIO ...]
set -euo pipefail

OUT=${1:-data/scenarios}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
SITE=yummyrecipesforme.com
SITE_ADDR=203.0.113.80      # the address the site should resolve to
WRONG_ADDR=198.51.100.66    # what the "wrong answer" scenario hands out instead
C=ik-client R=ik-router S=ik-server
PIDS=()

if [[ $EUID -ne 0 ]]; then
    echo "capture_scenarios: needs root (network namespaces, iptables)" >&2
    exit 1
fi
missing=()
for tool in tcpdump:tcpdump dig:dnsutils iptables:iptables dnsmasq:dnsmasq unbound:unbound tshark:tshark \
    ip:iproute2 ping:iputils-ping unshare:util-linux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

teardown() {
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] && timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true
    done
    PIDS=()
    for ns in $C $R $S; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap teardown EXIT

setup() {
    teardown
    for ns in $C $R $S; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
    ip link add c0 netns $C type veth peer name r0 netns $R
    ip link add s0 netns $S type veth peer name r1 netns $R
    # fixed MAC addresses so the -e renderings do not change from one recording to the next
    nsx $C ip link set c0 address 02:00:00:00:00:15
    nsx $R ip link set r0 address 02:00:00:00:01:01
    nsx $R ip link set r1 address 02:00:00:00:02:01
    nsx $S ip link set s0 address 02:00:00:00:02:02
    for ns_if in $C:c0 $R:r0 $R:r1 $S:s0; do
        nsx "${ns_if%%:*}" sysctl -qw "net.ipv6.conf.${ns_if#*:}.accept_dad=0"
    done
    nsx $C ip addr add 198.51.100.15/24 dev c0
    nsx $C ip -6 addr add 2001:db8:1::15/64 dev c0 nodad
    nsx $R ip addr add 198.51.100.1/24 dev r0
    nsx $R ip -6 addr add 2001:db8:1::1/64 dev r0 nodad
    nsx $R ip addr add 203.0.113.1/24 dev r1
    nsx $R ip -6 addr add 2001:db8:2::1/64 dev r1 nodad
    nsx $S ip addr add 203.0.113.2/24 dev s0
    nsx $S ip -6 addr add 2001:db8:2::2/64 dev s0 nodad
    for ns_if in $C:c0 $R:r0 $R:r1 $S:s0; do nsx "${ns_if%%:*}" ip link set "${ns_if#*:}" up; done
    nsx $C ip route add default via 198.51.100.1
    nsx $C ip -6 route add default via 2001:db8:1::1
    nsx $S ip route add default via 203.0.113.1
    nsx $S ip -6 route add default via 2001:db8:2::1
    nsx $R sysctl -qw net.ipv4.ip_forward=1
    nsx $R sysctl -qw net.ipv6.conf.all.forwarding=1
    # no rate limit on ICMP errors, so every refused query gets its answer on the wire
    for ns in $R $S; do
        nsx "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
        nsx "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0
    done
}

dnsmasq_on() {  # extra dnsmasq options...
    nsx $S dnsmasq --keep-in-foreground --no-daemon --no-hosts --no-resolv --bind-interfaces \
        --listen-address=203.0.113.2 --listen-address=2001:db8:2::2 --except-interface=lo \
        --pid-file= --user=root --log-facility=/dev/null "$@" &
    PIDS+=($!)
    # wait (at most 5 s) until it answers on port 53
    for _ in $(seq 50); do
        nsx $S ss -lun | grep -q '203.0.113.2:53' && return 0
        sleep 0.1
    done
    echo "dnsmasq did not start" >&2
    return 1
}

capture_start() {
    nsx $C tcpdump -i c0 -U -s 262144 -w "$WORK/$1.pcap" 2>/dev/null &
    CAP=$!
    PIDS+=("$CAP")
    sleep 1
}

capture_stop() {
    sleep 1
    kill -INT "$CAP"
    timeout 10 tail --pid="$CAP" -f /dev/null || true
}

lookup() {  # dig from the client; failures are the point, so never fatal
    nsx $C timeout 30 dig "$@" $SITE A +tries=3 +timeout=2 +nocookie +noedns >/dev/null 2>&1 || true
}
lookup6() {
    nsx $C timeout 30 dig -6 @2001:db8:2::2 $SITE AAAA +tries=3 +timeout=2 +nocookie +noedns \
        >/dev/null 2>&1 || true
}
ask() {  # TYPE [dig options...]: the caller's options come after the defaults, so they win
    local type=$1
    shift
    nsx $C timeout 30 dig $SITE "$type" +tries=3 +timeout=2 +nocookie +noedns "$@" \
        >/dev/null 2>&1 || true
}
ping_server() {
    nsx $C timeout 10 ping -c 2 -i 0.5 -W 2 "${1:-203.0.113.2}" >/dev/null 2>&1 || true
}

# ----------------------------------------------------------------------------- scenarios
scenario_healthy() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    capture_start healthy
    lookup @203.0.113.2
    sleep 1
    lookup @203.0.113.2 +tcp
    capture_stop
}
scenario_service_down() {
    capture_start service_down
    lookup @203.0.113.2
    ping_server
    capture_stop
}
scenario_service_down_ipv6() {
    capture_start service_down_ipv6
    lookup6
    capture_stop
}
scenario_host_down() {
    nsx $S ip link set s0 down
    capture_start host_down
    lookup @203.0.113.2 +tries=2 +timeout=4
    ping_server
    capture_stop
}
scenario_firewall_reject() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $R iptables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited
    capture_start firewall_reject
    lookup @203.0.113.2
    ping_server
    capture_stop
}
scenario_firewall_drop() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $S iptables -A INPUT -p udp --dport 53 -j DROP
    capture_start firewall_drop
    lookup @203.0.113.2 +tries=2 +timeout=2
    ping_server
    capture_stop
}
scenario_reject_port_unreachable() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $S iptables -A INPUT -p udp --dport 53 -j REJECT
    capture_start reject_port_unreachable
    lookup @203.0.113.2
    capture_stop
}
scenario_dos() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR --cache-size=0 --dns-forward-max=10000
    local sources=()
    for i in $(seq 100 147); do
        nsx $C ip addr add "198.51.100.$i/24" dev c0
        sources+=("198.51.100.$i")
    done
    capture_start dos
    for _ in 1 2 3; do lookup @203.0.113.2; sleep 1; done
    nsx $C timeout 60 python3 "$HERE/dns_flood.py" --server 203.0.113.2 --count 20000 \
        --max-seconds 20 --name "$SITE" "${sources[@]}"
    sleep 1
    for _ in 1 2 3; do lookup @203.0.113.2; sleep 1; done
    capture_stop
}
scenario_refused() {
    # no upstream and no local data for the site: dnsmasq refuses to resolve it
    dnsmasq_on --address=/intranet.example/192.0.2.10
    capture_start refused
    lookup @203.0.113.2
    capture_stop
}
scenario_servfail() {
    # a recursive resolver (unbound) whose only upstream, 192.0.2.53, cannot be reached:
    # it answers SERVFAIL
    local conf=$WORK/unbound.conf
    cat > "$conf" <<CONF
server:
    interface: 203.0.113.2
    access-control: 198.51.100.0/24 allow
    chroot: ""
    username: ""
    directory: "$WORK"
    pidfile: ""
    use-syslog: no
    logfile: ""
    do-ip6: no
    do-daemonize: no
    module-config: "iterator"
    outbound-msg-retry: 1
    infra-keep-probing: no
forward-zone:
    name: "."
    forward-addr: 192.0.2.53
CONF
    nsx $S unbound -d -c "$conf" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        nsx $S ss -lun | grep -q '203.0.113.2:53' && break
        sleep 0.1
    done
    capture_start servfail
    lookup @203.0.113.2 +tries=1 +timeout=15
    capture_stop
}
scenario_nxdomain() {
    # dnsmasq is authoritative for the zone, which lacks the site's record
    dnsmasq_on --local=/$SITE/ --address=/www.$SITE/$SITE_ADDR
    capture_start nxdomain
    lookup @203.0.113.2
    capture_stop
}
scenario_wrong_answer() {
    dnsmasq_on --address=/$SITE/$WRONG_ADDR
    capture_start wrong_answer
    lookup @203.0.113.2
    capture_stop
}

# lookup's options come before its defaults, and dig lets the later option win, so its
# callers always get +tries=3 +timeout=2; the scenarios below use ask, which puts them last.
scenario_tcp_service_down() {
    capture_start tcp_service_down
    ask A @203.0.113.2 +tcp
    capture_stop
}
scenario_host_down_local() {
    # a server address on the client's own segment that no host holds: ARP goes unanswered
    capture_start host_down_local
    ask A @198.51.100.53
    capture_stop
}
scenario_host_down_local6() {
    capture_start host_down_local6
    ask AAAA -6 @2001:db8:1::53
    capture_stop
}
scenario_firewall_host_prohibited() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $R iptables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-host-prohibited
    capture_start firewall_host_prohibited
    ask A @203.0.113.2
    ping_server
    capture_stop
}
scenario_firewall_net_prohibited() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $R iptables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-net-prohibited
    capture_start firewall_net_prohibited
    ask A @203.0.113.2
    ping_server
    capture_stop
}
scenario_firewall_ipv6_prohibited() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR --address=/$SITE/2001:db8:2::80
    nsx $R ip6tables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp6-adm-prohibited
    capture_start firewall_ipv6_prohibited
    ask AAAA -6 @2001:db8:2::2
    ping_server 2001:db8:2::2
    capture_stop
}
scenario_firewall_hop_port_unreachable() {
    # the router, not the server, answers port unreachable: the ICMP comes from a hop
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $R iptables -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
    capture_start firewall_hop_port_unreachable
    ask A @203.0.113.2
    capture_stop
}
scenario_firewall_udp_blocked_tcp_answers() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $S iptables -A INPUT -p udp --dport 53 -j DROP
    capture_start firewall_udp_blocked_tcp_answers
    ask A @203.0.113.2 +tries=2
    sleep 1
    ask A @203.0.113.2 +tcp
    capture_stop
}
scenario_truncated_tcp_blocked() {
    # eight TXT records (about 750 bytes) do not fit a 512-byte answer without EDNS: dnsmasq
    # sets TC, dig retries over TCP, and the router drops TCP port 53
    local txt=() i
    for i in 1 2 3 4 5 6 7 8; do
        txt+=("--txt-record=$SITE,site-verification-$i=$(printf 'txt%s' "$i" | sha256sum | cut -c1-64)")
    done
    dnsmasq_on --address=/$SITE/$SITE_ADDR "${txt[@]}"
    nsx $R iptables -A FORWARD -p tcp --dport 53 -j DROP
    capture_start truncated_tcp_blocked
    ask TXT @203.0.113.2
    capture_stop
}
scenario_dos_single_source() {
    dnsmasq_on --address=/$SITE/$SITE_ADDR --cache-size=0 --dns-forward-max=10000
    capture_start dos_single_source
    for _ in 1 2 3; do lookup @203.0.113.2; sleep 1; done
    nsx $C timeout 60 python3 "$HERE/dns_flood.py" --server 203.0.113.2 --count 5000 \
        --max-seconds 20 --name "$SITE" 198.51.100.15
    sleep 1
    for _ in 1 2 3; do lookup @203.0.113.2; sleep 1; done
    capture_stop
}
scenario_dos_overwhelmed() {
    # the server sends at most 200 answers a second (burst 50): a flood of 1200 queries a
    # second from 30 addresses leaves most queries, the client's among them, unanswered
    dnsmasq_on --address=/$SITE/$SITE_ADDR --cache-size=0 --dns-forward-max=10000
    nsx $S iptables -A OUTPUT -p udp --sport 53 -m limit --limit 200/s --limit-burst 50 -j ACCEPT
    nsx $S iptables -A OUTPUT -p udp --sport 53 -j DROP
    local sources=() i
    for i in $(seq 100 129); do
        nsx $C ip addr add "198.51.100.$i/24" dev c0
        sources+=("198.51.100.$i")
    done
    capture_start dos_overwhelmed
    for _ in 1 2; do lookup @203.0.113.2; sleep 1; done
    nsx $C timeout 60 python3 "$HERE/dns_flood.py" --server 203.0.113.2 --count 6000 \
        --rate 1200 --max-seconds 10 --name "$SITE" "${sources[@]}" &
    local flood=$!
    PIDS+=("$flood")
    sleep 0.3
    lookup @203.0.113.2    # three tries, two seconds apart: all inside the five-second spike
    timeout 15 tail --pid="$flood" -f /dev/null || true
    sleep 1
    for _ in 1 2; do lookup @203.0.113.2; sleep 1; done
    capture_stop
}
scenario_retry_storm() {
    # no flood: nothing listens on port 53, and 50 stub resolvers each ask once and retry
    local sources=() i
    for i in $(seq 150 199); do
        nsx $C ip addr add "198.51.100.$i/24" dev c0
        sources+=("198.51.100.$i")
    done
    capture_start retry_storm
    nsx $C timeout 20 python3 "$HERE/retry_storm.py" --server 203.0.113.2 --name "$SITE" \
        --attempts 4 --interval 0.3 --spread 0.3 --max-seconds 5 "${sources[@]}"
    capture_stop
}
scenario_lossy_path() {
    # the router drops every fourth query it forwards (the 4th, 8th, 12th)
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $R iptables -A FORWARD -p udp --dport 53 -m statistic --mode nth --every 4 --packet 3 -j DROP
    capture_start lossy_path
    for _ in $(seq 12); do
        ask A @203.0.113.2 +tries=1 +timeout=1
        sleep 0.3
    done
    capture_stop
}
scenario_slow_server() {
    # answers come 5 s late; dig gives up after 2 tries of 2 s, so the client's closed ports
    # answer them with ICMP port unreachable
    nsx $S timeout 40 python3 "$HERE/slow_dns.py" --listen 203.0.113.2 --delay 5 \
        --name "$SITE" --answer "$SITE_ADDR" --max-seconds 30 --max-queries 10 >/dev/null &
    PIDS+=($!)
    for _ in $(seq 50); do
        nsx $S ss -lun | grep -q '203.0.113.2:53' && break
        sleep 0.1
    done
    capture_start slow_server
    ask A @203.0.113.2 +tries=2 +timeout=2
    sleep 4    # until both late answers have arrived
    capture_stop
}
scenario_wrong_source() {
    # the server's answers leave from 203.0.113.3, not the queried 203.0.113.2. SNAT acts on
    # a connection's first packet, so the queries go untracked and each answer starts one.
    nsx $S ip addr add 203.0.113.3/24 dev s0
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $S iptables -t raw -A PREROUTING -p udp --dport 53 -j CT --notrack
    nsx $S iptables -t nat -A POSTROUTING -p udp --sport 53 -j SNAT --to-source 203.0.113.3
    capture_start wrong_source
    ask A @203.0.113.2
    capture_stop
}
scenario_nodata() {
    # dnsmasq is local for the site's zone, where the site has only an AAAA record: an A
    # query gets NOERROR with no answer (without --local it would be REFUSED)
    dnsmasq_on --local=/$SITE/ --host-record=$SITE,2001:db8:2::80
    capture_start nodata
    ask A @203.0.113.2
    capture_stop
}
scenario_healthy_aaaa_unanswered() {
    # healthy, but the server silently drops AAAA queries (qtype 28, class IN)
    dnsmasq_on --address=/$SITE/$SITE_ADDR
    nsx $S iptables -A INPUT -p udp --dport 53 -m string --algo bm --hex-string '|001c0001|' -j DROP
    capture_start healthy_aaaa_unanswered
    ask A @203.0.113.2
    sleep 1
    ask AAAA @203.0.113.2 +tries=1
    sleep 1
    ask A @203.0.113.2
    sleep 1
    ask A @203.0.113.2
    capture_stop
}

ALL=(healthy service_down service_down_ipv6 host_down firewall_reject firewall_drop
     reject_port_unreachable dos refused servfail nxdomain wrong_answer
     tcp_service_down host_down_local host_down_local6 firewall_host_prohibited
     firewall_net_prohibited firewall_ipv6_prohibited firewall_hop_port_unreachable
     firewall_udp_blocked_tcp_answers truncated_tcp_blocked dos_single_source dos_overwhelmed
     retry_storm lossy_path slow_server wrong_source nodata healthy_aaaa_unanswered)
WANT=("$@")
((${#WANT[@]})) || WANT=("${ALL[@]}")

mkdir -p "$OUT"
WORK=$(mktemp -d)
chmod 755 "$WORK"
for name in "${WANT[@]}"; do
    echo "recording $name" >&2
    setup
    "scenario_$name"
    teardown
    cp "$WORK/$name.pcap" "$OUT/$name.pcap"
done
rm -rf "$WORK"
exec "$HERE/render_scenarios.sh" "$OUT" "${WANT[@]}"
