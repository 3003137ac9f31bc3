# shared helpers of scripts/cases/record_*.sh (root: network namespaces) ; namespaces dh-c dh-r dh-s
set -uo pipefail
C=dh-c R=dh-r S=dh-s
SITE=yummyrecipesforme.com
SITE_ADDR=203.0.113.80
OUTDIR=${OUTDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../data/cases" && pwd)}
PIDS=()
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
teardown() {
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null; done
  PIDS=()
  for ns in $C $R $S; do ip netns del "$ns" 2>/dev/null; done
  return 0
}
trap teardown EXIT
setup() {
  teardown
  for ns in $C $R $S; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
  ip link add c0 netns $C type veth peer name r0 netns $R
  ip link add s0 netns $S type veth peer name r1 netns $R
  for ns_if in $C:c0 $R:r0 $R:r1 $S:s0; do nsx "${ns_if%%:*}" sysctl -qw "net.ipv6.conf.${ns_if#*:}.accept_dad=0"; done
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
  for ns in $R $S; do nsx "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0; nsx "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0; done
}
dnsmasq_on() {  # LISTEN_ADDRS... -- extra opts
  ip netns exec $S timeout 120 dnsmasq --keep-in-foreground --no-daemon --no-hosts --no-resolv --bind-interfaces \
    --except-interface=lo --pid-file= --user=root --log-facility=/dev/null "$@" &
  PIDS+=($!)
  for _ in $(seq 50); do nsx $S ss -lun | grep -q ':53\b\|:5300\b' && return 0; sleep 0.1; done
  echo "dnsmasq did not start" >&2; return 1
}
capture_start() {  # NAME [NAMESPACE INTERFACE]: the client's link unless told
  NAME=$1
  ip netns exec "${2:-$C}" timeout 120 tcpdump -i "${3:-c0}" -U -s 262144 -w "$OUTDIR/$1.pcap" 2>/dev/null &
  CAP=$!; PIDS+=("$CAP")
  # (it writes the file's header once it has its interface; a second more to settle)
  for _ in $(seq 50); do [[ $(stat -c %s "$OUTDIR/$1.pcap" 2>/dev/null || echo 0) -ge 24 ]] && break; sleep 0.1; done
  sleep 1
}
capture_stop() {
  sleep 1; kill -INT "$CAP"; timeout 10 tail --pid="$CAP" -f /dev/null
  render "$OUTDIR/$NAME.pcap"
}
render() {
  local p=$1 b=${1%.pcap}
  TZ=UTC tcpdump -nn -tttt -r "$p" > "$b.nn-tttt.txt" 2>/dev/null
  TZ=UTC tcpdump -nn -r "$p" > "$b.nn.txt" 2>/dev/null
  TZ=UTC tcpdump -nn -v -r "$p" > "$b.v.txt" 2>/dev/null
}
dg() { nsx $C timeout 30 dig +nocookie "$@" >/dev/null 2>&1 || true; }
ping_server() { nsx $C timeout 10 ping -c 2 -i 0.5 -W 2 "${1:-203.0.113.2}" >/dev/null 2>&1 || true; }
