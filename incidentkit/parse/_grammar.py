"""Every pattern the tcpdump text reader uses, in one place, with the output it matches.

The patterns are RE2 syntax (they run vectorised through ``pyarrow.compute``), so they
have no look-arounds or back-references and run in linear time even on a line of
megabytes. Each is quoted with a line tcpdump prints. The printers named are tcpdump's
``print-*.c`` files; both the 4.99 and the 5.0 wordings are accepted.
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------- lines
# Timestamps, as util-print.c's ts_print() writes them:
#   default     13:24:32.192571            (--nano: 13:24:32.192571488)
#   -tt         1418145369.924505          (seconds since the epoch, UTC)
#   -ttt        " 00:00:00.127522"          delta to the previous packet, sign ' ' or '-'
#   -tttt       2020-06-10 09:19:54.740079
#   -ttttt      " 00:00:00.127610"          delta to the first packet
#   invalid     17:16:10.1000000 (invalid us)
_TS: Final = r"(?:[ -]?(?:\d{4}-\d\d-\d\d )?\d+:\d\d:\d\d\.\d+|\d{9,}\.\d+)(?: \(invalid [mun]s\))?"
# "    1  " -- the packet number of -# / --number, right-aligned in five columns;
# "caplen 98 len 98 " -- 5.0's --lengths.
_NUMBER: Final = r" *\d+  "
_LENGTHS: Final = r"caplen \d+ len \d+ "

# How a record's first line may begin when it carries neither -# nor a timestamp (-t):
#   IP 192.0.2.1 > ...   IP6 2001:db8::1 > ...   ARP, Request who-has ...
#   00:1f:29:da:2d:79 > ff:ff:ff:ff:ff:ff, ...  (-e)   Out 00:16:3e:27:78:a2 ethertype ... (-e, any)
_BODY_START: Final = (
    r"(?:IP6? |IP6?, |ip6?: |ARP, |RARP, |MPLS |\[Invalid header|(?:In|Out|M|B|P) [0-9a-f]{2}:"
    r"|[0-9a-f]{2}(?::[0-9a-f]{2}){5} [>,])"
)

#: A line that starts a record.
RECORD_START: Final = (
    rf"^(?:{_NUMBER}(?:{_LENGTHS})?(?:{_TS} )?|(?:{_LENGTHS})?{_TS} |{_BODY_START})"
)

#: A second record on the same line, as in hand-copied logs:
#:   ``... A? yummyrecipesforme.com. (24) 13:24:36.098564 IP 203.0.113.2 > ...``
#: What stands before the timestamp is a non-digit, or a number standing alone
#: ("length 0 13:24:36..."), never the date of a -tttt header ("2020-06-10 09:21:03...")
#: nor the "len 98" of --lengths ("caplen 98 len 98 2023-12-26 09:37:33...").
_EMBEDDED_BEFORE: Final = r"(?:[^\d\s]|[^n\s]\s\d+) "
_EMBEDDED_TS: Final = r"(?:\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\.\d{6,9} (?:IP6?|ARP|RARP) "
EMBEDDED_RECORD: Final = _EMBEDDED_BEFORE + _EMBEDDED_TS
#: Python ``re`` twin: the cut is at the end of the match.
EMBEDDED_RECORD_SPLIT: Final = _EMBEDDED_BEFORE + "(?=" + _EMBEDDED_TS + ")"

#: Banner and summary lines, kept in ``df.attrs["capture"]``:
#:   reading from file dns.pcap, link-type EN10MB (Ethernet), snapshot length 262144
#:   listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
#:   tcpdump: verbose output suppressed, use -v[v]... for full protocol decode
#:   3 packets captured / 6 packets received by filter / 0 packets dropped by kernel
META: Final = (
    r"^(?:reading from file |listening on |tcpdump: |dropped privs to |"
    r"\d+ packets? (?:captured|received by filter|dropped by (?:kernel|interface)))"
)
BLANK: Final = r"^\s*$"
INDENTED: Final = r"^[ \t]"

#: A record start that carries a timestamp or a -# number (a ``-t`` log's carry neither):
#:   "13:24:32.192571 IP ..."   "    1  IP ..."   "2020-06-10 09:19:54.740079 ARP, ..."
STAMPED: Final = rf"^(?:{_NUMBER}|(?:{_LENGTHS})?{_TS} )"

#: A pcap record header tcpdump could not read, printed in place of the packet:
#:       2  [Invalid header: caplen==0, len==0]
INVALID_HEADER: Final = r"^\[Invalid header"

#: An address pair as a record prints it, anywhere on a line:
#:   AF IPv4 (2), length 72: 127.0.0.1.54954 > 127.0.0.1.53: 63147+ [1au] SOA? . (40)
ADDRESS_PAIR: Final = r"[^\s>]+ > [^\s>]+?: "

#: The direction of a Linux cooked capture's packet with -e, in three columns:
#:    In ethertype IPv4 (0x0800), length 76: 137.116.81.94.80 > 131.155.215.69.46656: ...
#:     B 00:16:3e:27:78:a2 ethertype ARP (0x0806), length 62: Request who-has ...
SLL_DIRECTION: Final = r"^(?: In|  [BMP]) (?:ethertype |[0-9a-f]{2}(?::[0-9a-f]{2}){5} )"

#: A truncation marker at the start of a line: what a printer prints when the packet
#: ends inside the header it reads (4.99's nd_print_trunc(): " [|ether]"; 4.9: "[|oam]"):
#:   12:00:01.000000 IP 192.0.2.1.5555 > 192.0.2.2.4789: VXLAN, flags [I] (0x08), vni 100
#:    [|ether]
TRUNCATION_MARK: Final = r"^ ?\[\|[^\]\s]*\]"

#: The header of a tunnel whose printer ends the line before the inner frame, which
#: tcpdump then prints from column 0 (print-vxlan.c, print-otv.c):
#:   IP 192.0.2.1.5555 > 192.0.2.2.4789: VXLAN, flags [I] (0x08), vni 100
#:   IP 198.51.100.1 > 198.51.100.2: ICMP echo request, id 1, seq 1, length 19
#:   IP 192.0.2.1.5555 > 192.0.2.2.8472: OTV, flags [I] (0x08), overlay 5, instance 7
TUNNEL_HEADER: Final = (
    r"(?:VXLAN, flags \[[^\]]*\] \(0x[0-9a-f]+\), vni \d+"
    r"|OTV, flags \[[^\]]*\] \(0x[0-9a-f]+\), overlay \d+, instance \d+)\s*$"
)

# --------------------------------------------------------------------------- records
#: Packet number and timestamp at the start of a record (every group optional).
HEADER: Final = (
    r"^(?: *(?P<pkt>\d+)  )?(?:" + _LENGTHS + r")?"
    r"(?:(?P<sign>[ -])?(?:(?P<date>\d{4}-\d\d-\d\d) )?(?P<hh>\d+):(?P<mm>\d\d):(?P<ss>\d\d)"
    r"\.(?P<frac>\d+)|(?P<epoch>\d{9,})\.(?P<efrac>\d+))?(?P<invalid> \(invalid [mun]s\))?"
)
#: The text of a record's first line after its packet number and timestamp.
BODY: Final = r"^(?: *\d+  )?(?:" + _LENGTHS + r")?(?:" + _TS + r" )?(?P<body>[^\n]*)"

#: Link-level header of -e, at the start of the body:
#:   00:1f:29:da:2d:79 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: ...
#:   Out 00:16:3e:27:78:a2 ethertype IPv4 (0x0800), length 204: ...   (Linux "any")
LINK: Final = (
    r"^ *(?:\d+  )?(?:" + _LENGTHS + r")?(?:" + _TS + r" )?"
    r"(?:(?:In|Out|M|B|P) )?(?P<lsrc>[0-9a-f]{2}(?::[0-9a-f]{2}){5})"
    r"(?: > (?P<ldst>[0-9a-f]{2}(?::[0-9a-f]{2}){5}),)? "
    r"(?:ethertype (?P<ethertype>\S+) \(0x[0-9a-f]{4}\))?"
)

#: The leftmost "src > dst: " of a record, and the rest of that line:
#:   IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? yummyrecipesforme.com. (24)
#:   IP6 2001:db8::1.53 > 2001:db8::2.5353: ...
#: With -v the addresses stand on the record's second line; a MAC pair of -e is skipped
#: because its destination ends in ',' not ': '.
ADDRESSES: Final = r"(?P<src>[^\s>]+) > (?P<dst>[^\s>]+?):(?: (?P<info>[^\n]*)|\n|$)"

#: Splits an address token into host and port.
#:   203.0.113.2.domain -> 203.0.113.2, domain     2001:db8::1.53 -> 2001:db8::1, 53
#:   ::ffff:192.0.2.1.53 -> ::ffff:192.0.2.1, 53   203.0.113.2 -> 203.0.113.2, (none)
NUMERIC_ADDRESS: Final = (
    r"^(?P<host>\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]*:[0-9A-Fa-f:]*(?:\d+\.\d+\.\d+\.\d+)?)"
    r"(?:\.(?P<port>[A-Za-z0-9][\w-]*))?$"
)
#: A host name (no -n) with its port: "resolver.example.domain" -> resolver.example, domain
NAMED_ADDRESS: Final = r"^(?P<host>.+)\.(?P<port>[A-Za-z0-9][\w-]*)$"

#: The keyword that names the network layer, first on the body:
#:   IP ...  IP6 ...  ARP, ...  ip: (4.99 -e on LINKTYPE_RAW)  MPLS (label ...) IP ...
NETWORK: Final = (
    r"^ *(?:\d+  )?(?:" + _LENGTHS + r")?(?:" + _TS + r" )?(?P<kw>IP6|IP|ip6|ip|ARP|RARP)\b"
)

#: What the -v IP header says (first line of the record):
#:   IP (tos 0x0, ttl 64, id 22989, offset 0, flags [none], proto UDP (17), length 84)
#:   IP6 (flowlabel 0x9fc72, hlim 255, next-header ICMPv6 (58), payload length 72)   5.0
#:   IP6 (hlim 64, next-header UDP (17) payload length: 32)                        4.99
IP_HEADER: Final = (
    r"^[^\n]*?\((?:[^\n]*?\b(?:ttl|hlim) (?P<ttl>\d+))?[^\n]*?"
    r"(?:proto|next-header) (?P<l4>[\w-]+) \((?P<l4num>\d+)\)"
)

#: ARP (print-arp.c):
#:   ARP, Request who-has 203.0.113.2 tell 203.0.113.1, length 28
#:   ARP, Reply 203.0.113.2 is-at 02:00:00:00:00:02, length 28
#:   ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 192.168.1.1 tell 192.168.1.104, length 46
ARP: Final = (
    r"(?:Request who-has (?P<target>\S+)(?: \([^)]*\))? tell (?P<asker>[^\s,]+)"
    r"|Reply (?P<sender>\S+) is-at (?P<mac>[^\s,]+))"
    r"(?:[^\n]*, length (?P<length>\d+))?"
)

# --------------------------------------------------------------------------- transport
#: TCP (print-tcp.c), the text after the addresses:
#:   Flags [P.], seq 1:59, ack 1, win 64240, length 58 17177+ [1au] A? www.tcpdump.org. (56)
#:   Flags [S], cksum 0x0c41 (correct), seq 603899916, win 64240, options [...], length 0
#:   tcp 0                                                              (-q)
TCP: Final = (
    r"^(?:Flags \[(?P<flags>[^\]]*)\](?:, cksum 0x[0-9a-f]+ \([^)]*\))?"
    r"(?:, seq (?P<seq>\d+(?::\d+)?))?(?:, ack (?P<ack>\d+))?(?:, win (?P<win>\d+))?"
    r"(?:, urg \d+)?(?:, options \[[^\]]*\])?(?:, length (?P<length>\d+))?"
    r"|tcp (?P<qlength>\d+))"
)
#: How the text after the addresses begins for SCTP (print-sctp.c) and DCCP (print-dccp.c):
#:   sctp (1) [INIT] [init tag: 4660] [rwnd: 65535] [OS: 10] [MIS: 10] [init TSN: 1]
#:   sctp [|sctp]                                  sctp   (-vv: the chunks on the next lines)
#:   DCCP DCCP-Request (service=0)                 DCCP (CCVal 0, CsCov 0, cksum 0x4e89 ...
SCTP_START: Final = r"^sctp\b"
DCCP_START: Final = r"^DCCP "
#: The first "length N" (or "length: N") of a text: LAST_LENGTH without its "(N)".
LENGTH_WORD: Final = r"length:? (?P<length>\d+)"
#: UDP without a decoder, or -q:  "UDP, length 56"  "[udp sum ok] UDP, length 56"  "udp 56"
UDP: Final = r"^(?:\[[^\]]*\] )?(?:UDP, length (?P<length>\d+)|udp (?P<qlength>\d+))"
#: The last length a line reports: ", length 605" or "length 0" or DNS's "(24)".
LAST_LENGTH: Final = r"(?:length:? (?P<length>\d+)|\((?P<dnslen>\d+)\))[^\n]*?$"

# --------------------------------------------------------------------------- DNS
# print-domain.c, domain_print().  Queries:
#   35084+ A? yummyrecipesforme.com. (24)
#   22836+ [1au] A? www.tcpdump.org. ar: . OPT UDPsize=4096 [COOKIE 42f5d00996f90b13] (56)
#   51584 zoneRef NoChange*|$ [64259q] q: Type0 (Class 4347)? M-{... [|domain]
# Responses: id, opcode, rcode, then * (AA), - (no RA), | (TC), $ (AD), counts, answers:
#   22836*- 2/2/5 A 192.139.46.66, A 198.199.88.104 (224)
#   63147 BadCookie 0/0/1 (56)
#   4660 NXDomain 0/1/0 (97)
#   22836*- q: A? www.tcpdump.org. 2/2/5 www.tcpdump.org. A 192.139.46.66, ... ns: ... (224)   (-vv)
# Over TCP the DNS text follows the TCP header: "Flags [P.], ..., length 58 17177+ ..."
# tcpdump prints a name's bytes as they are, spaces included ("A? <img src=x>.example."),
# so a name runs to what follows it, not to the first blank.
_RCODES: Final = (
    "FormErr|ServFail|NXDomain|NotImp|Refused|YXDomain|YXRRSet|NXRRSet|NotAuth|NotZone"
    r"|NoChange|BadVers|BadCookie|Resp\d+"
)
_OPCODES: Final = r"inv_q|stat|op\d+|notify|update[ADM]*|zoneInit|zoneRef"
#: Where the DNS text starts inside the text after the addresses.
DNS_TEXT: Final = r"^(?:Flags \[[^\]]*\][^\n]*?, length \d+:? |\[[^\]]*\] )?(?P<dns>\d+[^\n]*)$"
DNS: Final = (
    r"^(?P<id>\d+)(?: (?P<op>" + _OPCODES + r"))?(?: ?(?P<rcode>" + _RCODES + r"))?"
    r"(?P<flags>[*\-|$+%]*)(?: \[b2&3=0x[0-9a-f]+\])?(?: \[\d+(?:a|q|n|au)\])*"
    r"(?:,? (?:q: )?(?P<qtype>[A-Z][A-Za-z0-9_-]*)(?: \([^)]*\))?\? (?P<qname>[^\n]*?))?"
    r"(?: (?P<an>\d+)/(?P<ns>\d+)/(?P<ar>\d+)(?P<answers>[^\n]*?))?"
    r"(?: (?:ns|ar): [^\n]*?)?(?: \[\|domain\])?(?: \((?P<dlen>\d+)\))?$"
)

# --------------------------------------------------------------------------- ICMP
#: print-icmp.c: "ICMP <text>, length N" (the seed's copy drops the comma).
ICMP: Final = r"^ICMP (?P<text>[^\n]*?),? length (?P<length>\d+)|^ICMP (?P<bare>[^\n]*)"
#: print-icmp6.c: "ICMP6, <text>, length N" (the length may come earlier, or not at all),
#: after any IPv6 extension headers: "HBH (rtalert: 0x0000) (padn) [icmp6 sum ok] ICMP6, ..."
#: or, without -v, "HBH ICMP6, multicast listener report v2, ..."
ICMP6_START: Final = r"(?:^|[\])] |HBH |DSTOPT )ICMP6, "
ICMP6: Final = ICMP6_START + r"(?P<text>[^\n]*?)(?:,? length (?P<length>\d+))?(?: \[\|icmp6\])?$"

#: What an ICMP "destination unreachable" says about the datagram it answers:
#:   203.0.113.2 udp port 53 unreachable            198.51.100.7 tcp port https unreachable
#:   host 203.0.113.2 unreachable - admin prohibited filter
#:   203.0.113.2 protocol 132 port 9 unreachable     #14 203.0.113.2 unreachable
ICMP_UNREACH_QUOTED: Final = (
    r"^(?:#\d+ )?(?:(?:net|host) )?(?P<dst>\S+?)"
    r"(?: (?P<proto>udp|tcp) port (?P<port>\S+)"
    r"| protocol (?P<pnum>\d+)(?: port (?P<pport>\d+))?)? unreachable"
)
#: The same for ICMPv6 (print-icmp6.c):
#:   destination unreachable, unreachable port, 2001:db8::2 udp port 53
#:   destination unreachable, unreachable address 2001:db8::2
ICMP6_UNREACH_QUOTED: Final = (
    r"^destination unreachable, [^,]*?"
    r"(?:, (?P<dst>\S+) (?P<proto>udp|tcp) port (?P<port>[\w-]+)"
    r"| (?P<dst1>[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*|\d+\.\d+\.\d+\.\d+)(?:,|$))"
)

#: ICMPv6 time exceeded names the destination of the datagram it quotes (print-icmp6.c):
#:   time exceeded in-transit for 2001:db8:2::2, length 95
ICMP6_EXCEEDED_QUOTED: Final = r"^time exceeded in-transit for (?P<dst>[^\s,]+)(?:,|$)"

#: The quoted datagram that -v prints on the lines after an ICMP error:
#:   \tIP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto UDP (17), length 52)
#:       192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? yummyrecipesforme.com. (24)
ICMP_QUOTED_V: Final = (
    r"\n\s*(?:IP6? )?\([^\n]*?(?:proto|next-header) (?P<proto>\w+) \(\d+\)[^\n]*\n"
    r"\s*(?P<src>[^\s>]+) > (?P<dst>[^\s>]+?):(?: (?P<info>[^\n]*))?"
)
#: An ICMPv6 error's quoted datagram, as 4.99 prints it on the same line with -v:
#:   ... unreachable port, 2001:db8::2 udp port 53, length 80 ... IP6 (...) 2001:db8::1.5 > ...
ICMP6_QUOTED_V: Final = (
    r"ICMP6, [^\n]*?\bIP6 \([^)]*?next-header (?P<proto>\w+) \(\d+\)[^)]*\)\s+"
    r"(?P<src>[^\s>]+) > (?P<dst>[^\s>]+?):(?: (?P<info>[^\n]*))?"
)

#: ICMP text -> (type, code, reason); '#' in a pattern stands for an address, port or
#: number (any run of non-blanks). The first pattern that matches wins.
ICMP_SHAPES: Final[tuple[tuple[str, int, int, str], ...]] = (
    (r"^# (?:udp|tcp) port # unreachable$", 3, 3, "port unreachable"),
    (r"^# protocol # port # unreachable$", 3, 3, "port unreachable"),
    (r"^# protocol # unreachable$", 3, 2, "protocol unreachable"),
    (r"^net # unreachable$", 3, 0, "net unreachable"),
    (r"^host # unreachable$", 3, 1, "host unreachable"),
    (r"^# unreachable - need to frag", 3, 4, "fragmentation needed"),
    (r"unreachable - source route failed$", 3, 5, "source route failed"),
    (r"^net # unreachable - unknown$", 3, 6, "net unknown"),
    (r"^host # unreachable - unknown$", 3, 7, "host unknown"),
    (r"unreachable - source host isolated$", 3, 8, "source host isolated"),
    (r"^net # unreachable - admin prohibited$", 3, 9, "net admin prohibited"),
    (r"^host # unreachable - admin prohibited$", 3, 10, "host admin prohibited"),
    (r"^net # unreachable - tos prohibited$", 3, 11, "net tos unreachable"),
    (r"^host # unreachable - tos prohibited$", 3, 12, "host tos unreachable"),
    (r"unreachable - admin prohibited filter$", 3, 13, "admin prohibited filter"),
    (r"unreachable - host precedence violation$", 3, 14, "host precedence violation"),
    (r"unreachable - precedence cutoff$", 3, 15, "precedence cutoff"),
    (r"^echo reply", 0, 0, "echo reply"),
    (r"^source quench", 4, 0, "source quench"),
    (r"^redirect # to net", 5, 0, "redirect for net"),
    (r"^redirect # to host", 5, 1, "redirect for host"),
    (r"^redirect-tos # to net", 5, 2, "redirect for tos and net"),
    (r"^redirect-tos # to host", 5, 3, "redirect for tos and host"),
    (r"^echo request", 8, 0, "echo request"),
    (r"^router advertisement", 9, 0, "router advertisement"),
    (r"^router solicitation", 10, 0, "router solicitation"),
    (r"^time exceeded in-transit", 11, 0, "ttl exceeded in transit"),
    (r"^ip reassembly time exceeded", 11, 1, "reassembly time exceeded"),
    (r"^parameter problem", 12, 0, "parameter problem"),
    (r"^time stamp query", 13, 0, "timestamp request"),
    (r"^time stamp reply", 14, 0, "timestamp reply"),
    (r"^information request", 15, 0, "information request"),
    (r"^information reply", 16, 0, "information reply"),
    (r"^address mask request", 17, 0, "address mask request"),
    (r"^address mask is", 18, 0, "address mask reply"),
    (r"^extended echo request", 42, 0, "extended echo request"),
    (r"^extended echo reply", 43, 0, "extended echo reply"),
)
#: The same for ICMPv6 (print-icmp6.c), tried on the text after "ICMP6, ".
ICMP6_SHAPES: Final[tuple[tuple[str, int, int, str], ...]] = (
    (r"^destination unreachable, unreachable route", 1, 0, "no route"),
    # (4.99 prints this one with two spaces after the comma)
    (r"^destination unreachable,\s+unreachable prohibited", 1, 1, "admin prohibited"),
    (r"^destination unreachable, beyond scope", 1, 2, "beyond scope"),
    (r"^destination unreachable, unreachable address", 1, 3, "address unreachable"),
    (r"^destination unreachable, unreachable port", 1, 4, "port unreachable"),
    (r"^destination unreachable, source address failed", 1, 5, "source address failed policy"),
    (r"^destination unreachable, reject route", 1, 6, "reject route"),
    # codes print-icmp6.c has no words for
    (r"^destination unreachable, unknown unreach code \(5\)", 1, 5, "source address failed policy"),
    (r"^destination unreachable, unknown unreach code \(6\)", 1, 6, "reject route"),
    (r"^destination unreachable, unknown unreach code \(7\)", 1, 7, "source routing header error"),
    (r"^destination unreachable", 1, 255, "destination unreachable"),
    (r"^packet too big", 2, 0, "packet too big"),
    (r"^time exceeded in-transit", 3, 0, "hop limit exceeded in transit"),
    (r"^time exceeded", 3, 1, "reassembly time exceeded"),
    (r"^parameter problem", 4, 0, "parameter problem"),
    (r"^echo request", 128, 0, "echo request"),
    (r"^echo reply", 129, 0, "echo reply"),
    (r"^multicast listener query", 130, 0, "multicast listener query"),
    (r"^multicast listener report v2", 143, 0, "multicast listener report v2"),
    (r"^multicast listener report", 131, 0, "multicast listener report"),
    (r"^multicast listener done", 132, 0, "multicast listener done"),
    (r"^router solicitation", 133, 0, "router solicitation"),
    (r"^router advertisement", 134, 0, "router advertisement"),
    (r"^neighbor solicitation", 135, 0, "neighbor solicitation"),
    (r"^neighbor advertisement", 136, 0, "neighbor advertisement"),
    (r"^redirect", 137, 0, "redirect"),
    (r"^router renumbering", 138, 0, "router renumbering"),
    (r"^node information query", 139, 0, "node information query"),
    (r"^node information reply", 140, 0, "node information reply"),
    # (print-icmp6.c names types 139 and 140 twice; tok2str prints the first name)
    (r"^who-are-you request", 139, 0, "node information query"),
    (r"^who-are-you reply", 140, 0, "node information reply"),
    (r"^inverse neighbor solicitation", 141, 0, "inverse neighbor solicitation"),
    (r"^inverse neighbor advertisement", 142, 0, "inverse neighbor advertisement"),
    (r"^ha discovery request", 144, 0, "home agent address discovery request"),
    (r"^ha discovery reply", 145, 0, "home agent address discovery reply"),
    (r"^mobile router solicitation", 146, 0, "mobile prefix solicitation"),
    (r"^mobile router advertisement", 147, 0, "mobile prefix advertisement"),
    (r"^extended echo request", 160, 0, "extended echo request"),
    (r"^extended echo reply", 161, 0, "extended echo reply"),
)

# --------------------------------------------------------------------------- banner
#: "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144"
#: (Python ``re``: these few lines are read one by one)
BANNER_FIELDS: Final = (
    r"^(?:reading from file (?P<file>.*?)|listening on (?P<iface>\S+?)), link-type (?P<lt>\S+)"
    r"(?: \((?P<ltdesc>[^)]*)\))?(?:, snapshot length (?P<snap>\d+))?"
)
#: "3 packets captured", "6 packets received by filter", "0 packets dropped by kernel"
PACKET_COUNTS: Final = (
    r"^(?P<n>\d+) packets? "
    r"(?P<what>captured|received by filter|dropped by kernel|dropped by interface)"
)
