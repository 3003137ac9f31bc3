#!/usr/bin/env bash
# Render each scenario's pcap as text with the real tcpdump, and write MANIFEST.tsv with
# counts taken from the pcap by tshark (not by incidentkit).
#
# Renderings, all with TZ=UTC:
#   NAME.default.txt   tcpdump -r            (inside unshare -n: port names, no lookups leave)
#   NAME.n.txt         tcpdump -n -r
#   NAME.nn-tttt.txt   tcpdump -nn -tttt -r
#   NAME.v.txt         tcpdump -v -r         (inside unshare -n)
# A rendering over 256 kB is stored gzipped (NAME.*.txt.gz), and so is its pcap.
#
# Usage: scripts/render_scenarios.sh OUTDIR [SCENARIO ...]
set -euo pipefail
OUT=$1
shift
cd "$OUT"
export TZ=UTC

declare -A CAUSE=(
    [healthy]=none [service_down]=service_down [service_down_ipv6]=service_down
    [host_down]=host_down [firewall_reject]=firewall [firewall_drop]=firewall
    [reject_port_unreachable]=service_down [dos]=dos [refused]=misconfiguration
    [servfail]=misconfiguration [nxdomain]=misconfiguration [wrong_answer]=misconfiguration
    [tcp_service_down]=service_down [host_down_local]=host_down [host_down_local6]=host_down
    [firewall_host_prohibited]=firewall [firewall_net_prohibited]=firewall
    [firewall_ipv6_prohibited]=firewall [firewall_hop_port_unreachable]=firewall
    [firewall_udp_blocked_tcp_answers]=firewall [truncated_tcp_blocked]=firewall
    [dos_single_source]=dos [dos_overwhelmed]=dos [retry_storm]=service_down [lossy_path]=none
    [slow_server]=slow_server [wrong_source]=misconfiguration [nodata]=misconfiguration
    [healthy_aaaa_unanswered]=none
)
declare -A HOW=(
    [healthy]="dnsmasq answers the site's A record, over UDP and then over TCP"
    [service_down]="nothing listens on the server's port 53; dig, then ping"
    [service_down_ipv6]="nothing listens on the server's port 53, queried over IPv6"
    [host_down]="the server's interface is down; the router answers host unreachable; dig, then ping"
    [firewall_reject]="router: iptables REJECT udp/53 --reject-with icmp-admin-prohibited; dig, then ping"
    [firewall_drop]="server: iptables DROP udp/53 while dnsmasq runs; dig times out, ping is answered"
    [reject_port_unreachable]="server: iptables REJECT udp/53 (default icmp-port-unreachable) while dnsmasq runs"
    [dos]="3 lookups, a burst of 20000 queries from 48 client addresses, 3 lookups; dnsmasq answers"
    [refused]="dnsmasq has no upstream and no data for the site: REFUSED"
    [servfail]="unbound's only upstream (192.0.2.53) cannot be reached: SERVFAIL"
    [nxdomain]="dnsmasq is local for the site's zone, which lacks the name: NXDOMAIN"
    [wrong_answer]="dnsmasq answers the site with 198.51.100.66 instead of 203.0.113.80"
    [tcp_service_down]="nothing listens on the server's port 53; dig +tcp: each SYN answered by RST"
    [host_down_local]="the server address 198.51.100.53 is on the client's segment but no host has it: unanswered ARP only"
    [host_down_local6]="dig -6 @2001:db8:1::53 (client's segment, no host): unanswered neighbour solicitations only"
    [firewall_host_prohibited]="router: iptables REJECT udp/53 --reject-with icmp-host-prohibited; dig, then ping"
    [firewall_net_prohibited]="router: iptables REJECT udp/53 --reject-with icmp-net-prohibited; dig, then ping"
    [firewall_ipv6_prohibited]="router: ip6tables REJECT udp/53 --reject-with icmp6-adm-prohibited; dig -6 AAAA, then ping -6"
    [firewall_hop_port_unreachable]="router: iptables REJECT udp/53 (icmp-port-unreachable): port unreachable from the hop 198.51.100.1"
    [firewall_udp_blocked_tcp_answers]="server: iptables DROP udp/53 while dnsmasq runs; dig over UDP times out, dig +tcp is answered"
    [truncated_tcp_blocked]="TXT answer too big for 512 bytes: TC set; router drops TCP/53, dig's TCP retry gets no SYN-ACK"
    [dos_single_source]="3 lookups, a burst of 5000 queries from the client's own address, 3 lookups; dnsmasq answers"
    [dos_overwhelmed]="2 lookups, 6000 queries at 1200/s from 30 addresses with a lookup amid them, 2 lookups; server answers at most 200/s"
    [retry_storm]="nothing listens on port 53; 50 stub resolvers ask once and retry 3 times, 200 queries in 1.2 s: port unreachable for each"
    [lossy_path]="router drops every 4th forwarded query (iptables statistic nth); 12 lookups with one try each"
    [slow_server]="a responder (slow_dns.py) answers 5 s late; dig gives up after 2x2 s, the late answers draw port unreachable"
    [wrong_source]="server's answers SNATed to 203.0.113.3, not the queried 203.0.113.2"
    [nodata]="dnsmasq has only an AAAA record for the site: the A query gets NOERROR with no answer"
    [healthy_aaaa_unanswered]="dnsmasq answers three A lookups; the server drops the one AAAA query"
)

render() {  # name suffix command...
    local name=$1 suffix=$2
    shift 2
    "$@" > "$name.$suffix.txt" 2>"$name.$suffix.err"
    # keep tcpdump's banner: it is part of what an analyst copies
    cat "$name.$suffix.err" "$name.$suffix.txt" > "$name.$suffix.tmp"
    mv "$name.$suffix.tmp" "$name.$suffix.txt"
    rm -f "$name.$suffix.err"
    if (($(stat -c %s "$name.$suffix.txt") > 262144)); then
        gzip -n -9 -f "$name.$suffix.txt"
    else
        rm -f "$name.$suffix.txt.gz"
    fi
}

count() {  # pcap filter -> number of packets tshark finds
    tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

names=("$@")
if ((${#names[@]} == 0)); then
    for f in *.pcap *.pcap.gz; do [[ -e $f ]] && names+=("${f%%.pcap*}"); done
fi
for name in "${names[@]}"; do
    pcap="$name.pcap"
    if [[ ! -e $pcap && -e $pcap.gz ]]; then gunzip -k "$pcap.gz"; fi
    render "$name" default unshare -n tcpdump -r "$pcap"
    render "$name" n tcpdump -n -r "$pcap"
    render "$name" nn-tttt tcpdump -nn -tttt -r "$pcap"
    render "$name" v unshare -n tcpdump -v -r "$pcap"
    packets=$(count "$pcap" "frame")
    queries=$(count "$pcap" "dns.flags.response == 0 && !icmp && !icmpv6")
    responses=$(count "$pcap" "dns.flags.response == 1 && !icmp && !icmpv6")
    icmp_errors=$(count "$pcap" "icmp.type == 3 || icmp.type == 11 || icmpv6.type == 1")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${CAUSE[$name]}" "${HOW[$name]}" \
        "$packets" "$queries" "$responses" "$icmp_errors" > "$name.manifest-row"
    if (($(stat -c %s "$pcap") > 262144)); then
        gzip -n -9 -f "$pcap"
    fi
done

{
    printf 'scenario\texpected_cause\thow\tpackets\tdns_queries\tdns_responses\ticmp_errors\n'
    cat ./*.manifest-row
} > MANIFEST.tsv.new
# keep rows of scenarios not re-recorded this time
if [[ -e MANIFEST.tsv ]]; then
    tail -n +2 MANIFEST.tsv | while IFS=$'\t' read -r name rest; do
        [[ -e "$name.manifest-row" ]] || printf '%s\t%s\n' "$name" "$rest"
    done >> MANIFEST.tsv.new
fi
{ head -n 1 MANIFEST.tsv.new; tail -n +2 MANIFEST.tsv.new | sort; } > MANIFEST.tsv
rm -f MANIFEST.tsv.new ./*.manifest-row
echo "wrote $(pwd)/MANIFEST.tsv" >&2
