#!/usr/bin/env bash
# Re-record the scenario library in data/scenarios/ with real tools.
#
# Three test hosts on this machine, in network namespaces joined by veth pairs:
#
#   client 198.51.100.15 / 2001:db8:1::15  --  router 198.51.100.1 | 203.0.113.1
#                                              2001:db8:1::1 | 2001:db8:2::1  --  server 203.0.113.2 / 2001:db8:2::2
#
# For each scenario: build the hosts, start tcpdump -w on the client's interface, make
# the failure (dnsmasq, iptables, ip link), let the client look the site up with dig
# (and ping where an analyst would), stop, tear everything down. No packet leaves the
# namespaces; every wait and loop is bounded. Needs root (make captures runs it).
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

ALL=(healthy service_down service_down_ipv6 host_down firewall_reject firewall_drop
     reject_port_unreachable dos refused servfail nxdomain wrong_answer)
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
