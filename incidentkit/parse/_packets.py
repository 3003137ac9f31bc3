"""Packet bytes into the schema's fields: link layers, IPv4 and IPv6, UDP, TCP, ARP, ICMP
and ICMPv6 with the datagram an error quotes, and DNS (by :mod:`._dnsmsg`).

The pure-Python decoder of the capture reader. The bytes are untrusted: every
length and offset is checked against what was captured before it is used, and a packet
cut short inside a header keeps what was read, with the reason in ``error``. The text
written for ``info`` and ``raw`` follows what ``tcpdump -nn`` prints for the packet, so
the report's evidence reads the same whichever reader made the frame, and the words of
``icmp_reason`` are the text reader's (:data:`._grammar.ICMP_SHAPES`).
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from . import _grammar as g
from ._dnsmsg import decode_dns

# --------------------------------------------------------------------------- link types
#: LINKTYPE_* numbers (tcpdump.org/linktypes.html) this decoder reads
ETHERNET, RAW, SLL, SLL2, IPV4, IPV6, NULL, LOOP = 1, 101, 113, 276, 228, 229, 0, 108
#: PPP and PPP in HDLC framing (RFC 1661, 1662), Cisco HDLC, Solaris ipnet
PPP, PPP_HDLC, C_HDLC, IPNET = 9, 50, 104, 226
#: PPP protocol numbers of IPv4 and IPv6 (RFC 1332, 5072)
_PPP_PROTOCOLS = {0x0021: "ip", 0x0057: "ip6"}
#: Linux netfilter's log (tcpdump -i nflog:N): a header, then TLVs; the one of type 9 holds
#: the packet (tcpdump.org/linktypes/LINKTYPE_NFLOG.html)
NFLOG = 239
_NFLOG_PAYLOAD = 9
#: its address families: AF_INET and AF_INET6 as Linux numbers them
_NFLOG_FAMILIES = {2: "ip", 10: "ip6"}
#: ipnet's address families (print-ipnet.c: IPH_AF_INET, IPH_AF_INET6)
_IPNET_FAMILIES = {2: "ip", 26: "ip6"}
#: MPLS unicast and multicast (RFC 3032): a stack of labels, then IPv4 or IPv6
_MPLS = (0x8847, 0x8848)
#: PPPoE's discovery stage and session data (RFC 2516), and the discovery codes by name
_PPPOE_DISCOVERY, _PPPOE_SESSION = 0x8863, 0x8864
_PPPOE_CODES = {0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xA7: "PADT"}
#: DLT_RAW as some systems number it in files (12, and 14 on OpenBSD)
_RAW_ALSO = (12, 14)
_VLAN = (0x8100, 0x88A8, 0x9100)
_ETHERTYPES = {0x0800: "ip", 0x86DD: "ip6", 0x0806: "arp", 0x8035: "arp"}
#: BSD loopback address families: AF_INET, and AF_INET6 as BSDs and Linux number it
_AF = {2: "ip", 24: "ip6", 28: "ip6", 30: "ip6", 10: "ip6"}

#: the ports DNS is decoded on, as tcpdump decodes it (domain, mdns; 4.99 prints LLMNR's
#: 5355 as plain UDP)
DNS_PORTS = frozenset({53, 5353})

_ICMP_WORDS: dict[tuple[int, int], str] = {}
for _pattern, _type, _code, _words in g.ICMP_SHAPES:
    _ICMP_WORDS.setdefault((_type, _code), _words)
_ICMP6_WORDS: dict[tuple[int, int], str] = {}
for _pattern, _type, _code, _words in g.ICMP6_SHAPES:
    _ICMP6_WORDS.setdefault((_type, _code), _words)


def _by_type(words: dict[tuple[int, int], str]) -> dict[int, str]:
    """The words of each type that has one meaning whatever its code (tcpdump names
    those by type alone: an echo request of code 5 is still "echo request")."""
    codes: dict[int, set[str]] = {}
    for (itype, _code), meaning in words.items():
        codes.setdefault(itype, set()).add(meaning)
    return {t: next(iter(m)) for t, m in codes.items() if len(m) == 1}


_ICMP_TYPE_WORDS = _by_type(_ICMP_WORDS)
_ICMP6_TYPE_WORDS = _by_type(_ICMP6_WORDS)
#: ICMP types that quote the datagram they answer (RFC 792), ICMPv6's (RFC 4443)
_ICMP_ERRORS = (3, 4, 5, 11, 12)
_ICMP6_ERRORS = (1, 2, 3, 4)
#: in print-tcp.c's order (tcp_flag_values): the ACK's "." comes after "P"
_TCP_FLAGS = (
    (0x01, "F"),
    (0x02, "S"),
    (0x04, "R"),
    (0x08, "P"),
    (0x10, "."),
    (0x20, "U"),
    (0x40, "E"),
    (0x80, "W"),
)
_IP_PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6", 132: "sctp", 33: "dccp"}


def mac(b: bytes | memoryview) -> str:
    return ":".join(f"{x:02x}" for x in bytes(b))


def _ip4(b: bytes | memoryview) -> str:
    return ".".join(str(x) for x in bytes(b))


def _ip6(b: bytes | memoryview) -> str:
    return str(ipaddress.IPv6Address(bytes(b)))


class _Packet:
    """The fields of one packet, as they are read."""

    __slots__ = ("cols", "errors", "text")

    def __init__(self) -> None:
        self.cols: dict[str, Any] = {}
        self.errors: list[str] = []
        self.text = ""  # what tcpdump -nn prints after the timestamp

    def short(self, where: str) -> None:
        self.errors.append(f"packet cut short in the {where}")


def decode_packet(buf: bytes | memoryview, linktype: int) -> tuple[dict[str, Any], str, str | None]:
    """The schema's columns read from one captured frame, the tcpdump-style text of the
    packet (after its timestamp), and why a value could not be read (None: nothing)."""
    p = _Packet()
    view = memoryview(buf)
    _link(p, view, linktype)
    p.cols.setdefault("proto", "other")
    return p.cols, p.text, "; ".join(p.errors) or None


# --------------------------------------------------------------------------- link
def _link(p: _Packet, b: memoryview, linktype: int) -> None:
    if linktype == ETHERNET:
        if len(b) < 14:
            p.short("Ethernet header")
            p.text = f"[|ether] ({len(b)} bytes)"
            return
        p.cols["link_dst"], p.cols["link_src"] = mac(b[0:6]), mac(b[6:12])
        ethertype = struct.unpack_from("!H", b, 12)[0]
        at = 14
        while ethertype in _VLAN:  # 802.1Q / QinQ tags: TCI, then the next type
            if len(b) < at + 4:
                p.short("VLAN tag")
                p.text = "[|vlan]"
                return
            ethertype = struct.unpack_from("!H", b, at + 2)[0]
            at += 4
        if ethertype <= 1500:  # an 802.3 length: LLC follows (STP, ...)
            p.text = f"802.3, length {len(b)}"
            return
        if ethertype in _MPLS:
            _mpls(p, b[at:])
            return
        if ethertype in (_PPPOE_DISCOVERY, _PPPOE_SESSION):
            _pppoe(p, b[at:])
            return
        _network(p, b[at:], _ETHERTYPES.get(ethertype), f"ethertype 0x{ethertype:04x}")
    elif linktype == SLL:
        if len(b) < 16:
            p.short("Linux cooked header")
            return
        halen = struct.unpack_from("!H", b, 4)[0]
        if halen == 6:
            p.cols["link_src"] = mac(b[6:12])
        proto = struct.unpack_from("!H", b, 14)[0]
        _network(p, b[16:], _ETHERTYPES.get(proto), f"ethertype 0x{proto:04x}")
    elif linktype == SLL2:
        if len(b) < 20:
            p.short("Linux cooked v2 header")
            return
        proto = struct.unpack_from("!H", b, 0)[0]
        if b[11] == 6:
            p.cols["link_src"] = mac(b[12:18])
        _network(p, b[20:], _ETHERTYPES.get(proto), f"ethertype 0x{proto:04x}")
    elif linktype in (RAW, *_RAW_ALSO, IPV4, IPV6):
        if not len(b):
            p.short("IP header")
            return
        version = b[0] >> 4
        kind = {4: "ip", 6: "ip6"}.get(version)
        _network(p, b, kind, f"IP version {version}")
    elif linktype in (NULL, LOOP):
        if len(b) < 4:
            p.short("loopback header")
            return
        family = struct.unpack_from("!I" if linktype == LOOP else "=I", b, 0)[0]
        if family not in _AF:  # (written by a host of the other byte order)
            family = struct.unpack_from(
                "<I" if struct.pack("=I", 1) == b"\0\0\0\1" else ">I", b, 0
            )[0]
        _network(p, b[4:], _AF.get(family), f"AF {family}")
    elif linktype in (PPP, PPP_HDLC, C_HDLC):
        _ppp(p, b, linktype)
    elif linktype == NFLOG:
        _nflog(p, b)
    elif linktype == IPNET:
        if len(b) < 24:
            p.short("ipnet header")
            return
        family = b[1]
        _network(p, b[24:], _IPNET_FAMILIES.get(family), f"ipnet family {family}")
    else:
        p.text = f"link-type {linktype}, length {len(b)}"


def _nflog(p: _Packet, b: memoryview) -> None:
    """An NFLOG record: family, version (0), resource id, then TLVs, each padded to 4 bytes,
    to the packet's (type 9), read as IPv4 or IPv6 by the family, as print-nflog.c reads it.
    The TLVs' length and type are in the byte order of the host that logged the packet; it
    is told from the first TLV, which the kernel always writes as NFULA_PACKET_HDR (8
    bytes, type 1)."""
    if len(b) < 4:
        p.short("NFLOG header")
        return
    family, version = b[0], b[1]
    if version != 0:
        p.text = f"NFLOG version {version} (unknown), length {len(b)}"
        return
    order = ">" if bytes(b[4:8]) == b"\x00\x08\x00\x01" else "<"
    at = 4
    while at < len(b):
        if len(b) < at + 4:
            p.short("NFLOG TLV")
            return
        length, kind = struct.unpack_from(order + "HH", b, at)
        if length < 4:
            p.errors.append(f"an NFLOG TLV of length {length}")
            p.text = f"NFLOG, a TLV of length {length}"
            return
        if kind == _NFLOG_PAYLOAD:  # (cut short by the snap length: the IP layer says so)
            payload = b[at + 4 : at + length]
            _network(p, payload, _NFLOG_FAMILIES.get(family), f"NFLOG family {family}")
            return
        at += (length + 3) & ~3
    p.text = f"NFLOG, family {family}, no packet, length {len(b)}"


def _pppoe(p: _Packet, b: memoryview) -> None:
    """PPPoE (RFC 2516): version and type (1 and 1), code (0: session data), session id,
    length, then for session data a PPP frame (its protocol field, no HDLC bytes), written
    as print-pppoe.c writes it: "PPPoE  [ses 0x1] " before the packet."""
    if len(b) < 6:
        p.short("PPPoE header")
        p.text = "[|pppoe]"
        return
    version, kind, code = b[0] >> 4, b[0] & 0x0F, b[1]
    session, length = struct.unpack_from("!HH", b, 2)
    words = "" if version == 1 else f" [ver {version}]"
    words += "" if kind == 1 else f" [type {kind}]"
    words += "PPPoE " + ("" if code == 0 else _PPPOE_CODES.get(code, f"PAD-{code:x}"))
    if session:
        words += f" [ses 0x{session:x}]"
    if code:  # (the discovery stage: tags, no packet)
        p.text = f"{words}, length {len(b)}"
        return
    _ppp(p, b[6 : 6 + length], PPP)
    p.text = f"{words} {p.text}"


def _ppp(p: _Packet, b: memoryview, linktype: int) -> None:
    """PPP (with or without the HDLC address and control bytes, a protocol field of one
    byte or two), or Cisco HDLC, whose protocol is an ethertype."""
    if linktype == C_HDLC:
        if len(b) < 4:
            p.short("Cisco HDLC header")
            return
        proto = struct.unpack_from("!H", b, 2)[0]
        _network(p, b[4:], _ETHERTYPES.get(proto), f"ethertype 0x{proto:04x}")
        return
    at = 2 if len(b) >= 2 and b[0] == 0xFF and b[1] == 0x03 else 0
    if len(b) < at + 1:
        p.short("PPP header")
        return
    if b[at] & 1:  # a compressed, one-byte protocol field (RFC 1661, 6.5)
        proto, at = b[at], at + 1
    elif len(b) < at + 2:
        p.short("PPP header")
        return
    else:
        proto, at = struct.unpack_from("!H", b, at)[0], at + 2
    if proto in (0x0281, 0x0283):  # MPLS unicast, multicast (RFC 3032)
        _mpls(p, b[at:])
        return
    _network(p, b[at:], _PPP_PROTOCOLS.get(proto), f"PPP protocol 0x{proto:04x}")


def _mpls(p: _Packet, b: memoryview) -> None:
    """The label stack (4 bytes a label, to the one with the bottom-of-stack bit), then
    the packet it carries, IPv4 or IPv6 by its version, as print-mpls.c guesses it."""
    at = 0
    while True:
        if len(b) < at + 4:
            p.short("MPLS label stack")
            p.text = "MPLS [|mpls]"
            return
        bottom = b[at + 2] & 1
        at += 4
        if bottom:
            break
    version = b[at] >> 4 if len(b) > at else None
    kind = {4: "ip", 6: "ip6"}.get(version)  # type: ignore[arg-type]
    _network(p, b[at:], kind, "MPLS")


def _network(p: _Packet, b: memoryview, kind: str | None, what: str) -> None:
    if kind == "ip":
        _ipv4(p, b)
    elif kind == "ip6":
        _ipv6(p, b)
    elif kind == "arp":
        _arp(p, b)
    else:
        p.text = f"{what}, length {len(b)}"


# --------------------------------------------------------------------------- ARP
def _arp(p: _Packet, b: memoryview) -> None:
    p.cols["proto"] = "arp"
    p.cols["length"] = len(b)
    if len(b) < 8:
        p.short("ARP header")
        p.text = "ARP, [|arp]"
        return
    htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", b, 0)
    need = 8 + 2 * hlen + 2 * plen
    if ptype != 0x0800 or plen != 4 or hlen != 6:
        p.text = f"ARP, hardware type {htype}, protocol 0x{ptype:04x}, length {len(b)}"
        return
    if len(b) < need:
        p.short("ARP addresses")
        p.text = "ARP, [|arp]"
        return
    sha, spa = b[8:14], _ip4(b[14:18])
    tpa = _ip4(b[24:28])
    if op == 1:
        p.cols["src"], p.cols["dst"] = spa, tpa
        p.text = f"ARP, Request who-has {tpa} tell {spa}, length {len(b)}"
    elif op == 2:
        p.cols["src"] = spa
        p.text = f"ARP, Reply {spa} is-at {mac(sha)}, length {len(b)}"
    else:
        p.cols["src"], p.cols["dst"] = spa, tpa
        p.text = f"ARP, op {op}, length {len(b)}"


# --------------------------------------------------------------------------- IP
def _ipv4(p: _Packet, b: memoryview) -> None:
    p.cols["proto"] = "ip"
    if len(b) < 20:
        p.short("IPv4 header")
        p.text = "IP [|ip]"
        return
    if b[0] >> 4 != 4:  # print-ip.c refuses it: "IP4 bad-version"
        p.errors.append(f"IPv4 version error: {b[0] >> 4} != 4")
        p.text = f"IP{b[0] >> 4}"
        return
    ihl = (b[0] & 0x0F) * 4
    total, ident, frag, ttl, proto = struct.unpack_from("!HHHBB", b, 2)
    src, dst = _ip4(b[12:16]), _ip4(b[16:20])
    p.cols.update(src=src, dst=dst, ttl=ttl)
    if ihl < 20 or len(b) < ihl:
        p.errors.append(f"IPv4 header length {ihl} is past what was captured or too short")
        p.text = f"IP {src} > {dst}: [|ip]"
        return
    if 0 < total < ihl:  # print-ip.c: "bad-len", and nothing of the datagram
        p.errors.append(f"IPv4 total length {total} is shorter than its header ({ihl} bytes)")
        p.text = f"IP bad-len {total}"
        return
    # a total length of 0 is a segment the sender's NIC was to cut (TSO, BIG TCP): what
    # was captured is the datagram, as tcpdump 5 and Wireshark take it
    total = total or len(b)
    payload = b[ihl : min(len(b), total)]
    offset = (frag & 0x1FFF) * 8
    if offset:  # a later fragment: the transport header is in the first
        p.errors.append(f"an IPv4 fragment (offset {offset}): its transport header is in the first")
        p.text = f"IP {src} > {dst}: ip-proto-{proto} (frag {ident}:{len(payload)}@{offset})"
        return
    _transport(p, payload, proto, src, dst, "IP", total - ihl)


def _ipv6(p: _Packet, b: memoryview) -> None:
    p.cols["proto"] = "ip6"
    if len(b) < 40:
        p.short("IPv6 header")
        p.text = "IP6 [|ip6]"
        return
    if b[0] >> 4 != 6:  # print-ip6.c refuses it
        p.errors.append(f"IPv6 version error: {b[0] >> 4} != 6")
        p.text = f"IP6 version error: {b[0] >> 4} != 6"
        return
    plen, nxt, hlim = struct.unpack_from("!HBB", b, 4)
    src, dst = _ip6(b[8:24]), _ip6(b[24:40])
    p.cols.update(src=src, dst=dst, ttl=hlim)
    body = b[40 : 40 + plen] if plen else b[40:]
    at = 0
    shown = ""  # what tcpdump prints of the extension headers before the transport
    for _ in range(16):  # extension headers, bounded
        if nxt in (0, 43, 60):  # hop-by-hop, routing, destination options: (len + 1) * 8
            if len(body) < at + 2:
                p.short("IPv6 extension header")
                p.text = f"IP6 {src} > {dst}: [|ip6]"
                return
            shown += {0: "HBH ", 60: "DSTOPT "}.get(nxt, "")
            nxt, size = body[at], (body[at + 1] + 1) * 8
        elif nxt == 44:  # fragment: 8 bytes; a later fragment has no transport header
            if len(body) < at + 8:
                p.short("IPv6 fragment header")
                return
            offset = struct.unpack_from("!H", body, at + 2)[0] & 0xFFF8
            if offset:
                p.errors.append(
                    f"an IPv6 fragment (offset {offset}): its transport header is in the first"
                )
                p.text = f"IP6 {src} > {dst}: frag (offset {offset})"
                return
            nxt, size = body[at], 8
        elif nxt == 51:  # authentication header: (len + 2) * 4
            if len(body) < at + 2:
                p.short("IPv6 authentication header")
                return
            nxt, size = body[at], (body[at + 1] + 2) * 4
        else:
            break
        at += size
    if at > len(body):
        p.short("IPv6 extension headers")
        p.text = f"IP6 {src} > {dst}: [|ip6]"
        return
    _transport(p, body[at:], nxt, src, dst, "IP6", plen - at)
    if shown:
        cut = p.text.find(": ", len(src) + 4) + 2  # (after "IP6 src... > dst...: ")
        p.text = p.text[:cut] + shown + p.text[cut:]


# --------------------------------------------------------------------------- transport
#: transports whose header begins with the two ports and that the schema names
_PORTED = {132: "sctp", 33: "dccp"}


def _transport(
    p: _Packet, b: memoryview, proto: int, src: str, dst: str, family: str, wire: int
) -> None:
    if proto == 17:
        _udp(p, b, src, dst, family, wire)
    elif proto == 6:
        _tcp(p, b, src, dst, family, wire)
    elif proto == 1 and family == "IP":
        _icmp(p, b, src, dst, wire)
    elif proto == 58 and family == "IP6":
        _icmp6(p, b, src, dst, wire)
    elif proto in _PORTED:  # SCTP and DCCP: ports first, as UDP and TCP (schema.PROTOCOLS)
        name = _PORTED[proto]
        p.cols.update(proto=name, length=max(wire, 0))
        ports = _ports(p, b, name.upper())
        shown = f"{src}.{ports[0]} > {dst}.{ports[1]}" if ports else f"{src} > {dst}"
        p.text = (
            f"{family} {shown}: {name} {max(wire, 0)}" if ports else f"{family} {shown}: [|{name}]"
        )
    else:
        name = _IP_PROTO_NAMES.get(proto, f"ip-proto-{proto}")
        p.text = f"{family} {src} > {dst}: {name} {max(wire, 0)}"
        p.cols["length"] = max(wire, 0)


def _ports(p: _Packet, b: memoryview, what: str) -> tuple[int, int] | None:
    if len(b) < 4:
        p.short(f"{what} header")
        return None
    sport, dport = struct.unpack_from("!HH", b, 0)
    p.cols.update(sport=sport, dport=dport)
    return sport, dport


def _udp(p: _Packet, b: memoryview, src: str, dst: str, family: str, wire: int) -> None:
    ports = _ports(p, b, "UDP")
    p.cols["proto"] = "udp"
    if ports is None:
        p.text = f"{family} {src} > {dst}: [|udp]"
        return
    sport, dport = ports
    head = f"{family} {src}.{sport} > {dst}.{dport}:"
    if len(b) < 8:
        p.short("UDP header")
        p.text = f"{head} [|udp]"
        return
    ulen = struct.unpack_from("!H", b, 4)[0]
    if ulen < 8:  # print-udp.c: "truncated-udplength", and nothing of the payload
        p.errors.append(f"UDP length {ulen} is shorter than the UDP header")
        p.text = f"{head} truncated-udplength {ulen}"
        return
    # print-udp.c: the payload is what the UDP length says, within the IP datagram
    size = max(min(ulen, wire) - 8, 0)
    p.cols["length"] = size
    if sport in DNS_PORTS or dport in DNS_PORTS:
        dns = decode_dns(b[8:], length=size, mdns=5353 in (sport, dport))
        if dns is not None:
            _dns_columns(p, dns)
            p.text = f"{head} {dns.text}"
            return
    p.text = f"{head} UDP, length {size}"


def _tcp(p: _Packet, b: memoryview, src: str, dst: str, family: str, wire: int) -> None:
    p.cols["proto"] = "tcp"
    ports = _ports(p, b, "TCP")
    if ports is None:
        p.text = f"{family} {src} > {dst}: [|tcp]"
        return
    sport, dport = ports
    head = f"{family} {src}.{sport} > {dst}.{dport}:"
    if len(b) < 20:
        p.short("TCP header")
        p.text = f"{head} [|tcp]"
        return
    seq, ack, off_flags, win = struct.unpack_from("!IIHH", b, 4)
    doff = (off_flags >> 12) * 4
    bits = off_flags & 0xFF
    flags = "".join(ch for bit, ch in _TCP_FLAGS if bits & bit) or "none"
    size = max(wire - doff, 0) if doff >= 20 else 0
    seq_text = f"{seq}:{(seq + size) & 0xFFFFFFFF}" if size else str(seq)
    p.cols.update(tcp_flags=flags, tcp_seq=seq_text, tcp_win=win, length=size)
    parts = [f"Flags [{flags}]", f"seq {seq_text}"]
    if bits & 0x10:
        p.cols["tcp_ack"] = ack
        parts.append(f"ack {ack}")
    parts += [f"win {win}", f"length {size}"]
    text = f"{head} {', '.join(parts)}"
    if doff < 20 or len(b) < doff:
        p.errors.append(f"TCP header length {doff} is past what was captured or too short")
        p.text = text
        return
    payload = b[doff:]
    if (sport in DNS_PORTS or dport in DNS_PORTS) and len(payload) >= 14:
        dns = decode_dns(payload, tcp=True, length=size)
        if dns is not None:
            _dns_columns(p, dns)
            text = f"{text} {dns.text}"
    p.text = text


def _dns_columns(p: _Packet, dns: Any) -> None:
    p.cols.update(
        dns_id=dns.id,
        dns_qr=dns.qr,
        dns_flags=dns.flags or None,  # (no flag set: the text reader has none)
        dns_qtype=dns.qtype,
        dns_qname=dns.qname,
    )
    if dns.qr == "response":
        p.cols.update(dns_rcode=dns.rcode, dns_ancount=dns.ancount, dns_answers=dns.answers)
    if dns.error:
        p.errors.append(f"DNS: {dns.error}")


# --------------------------------------------------------------------------- ICMP
def _icmp(p: _Packet, b: memoryview, src: str, dst: str, wire: int) -> None:
    p.cols["proto"] = "icmp"
    head = f"IP {src} > {dst}: ICMP"
    length = max(wire, 0)
    p.cols["length"] = length
    if len(b) < 4:
        p.short("ICMP header")
        p.text = f"{head} [|icmp]"
        return
    itype, code = b[0], b[1]
    p.cols.update(icmp_type=itype, icmp_code=code)
    words = _ICMP_WORDS.get((itype, code)) or _ICMP_TYPE_WORDS.get(itype)
    p.cols["icmp_reason"] = words or f"type-#{itype}"
    if itype in (0, 8) and len(b) >= 8:
        ident, seq = struct.unpack_from("!HH", b, 4)
        kind = "echo reply" if itype == 0 else "echo request"
        p.text = f"{head} {kind}, id {ident}, seq {seq}, length {length}"
        return
    if itype in _ICMP_ERRORS and len(b) >= 8:
        quoted = _quoted4(p, b[8:])
        p.text = f"{head} {_unreach_text(itype, code, quoted, words)}, length {length}"
        return
    p.text = f"{head} {words or f'type-#{itype}'}, length {length}"


def _quoted4(p: _Packet, q: memoryview) -> dict[str, Any]:
    """What an ICMP error quotes: the IPv4 header and the start of its transport header."""
    if len(q) < 20 or q[0] >> 4 != 4:
        return {}
    ihl = (q[0] & 0x0F) * 4
    proto = q[9]
    orig = {
        "icmp_orig_proto": _IP_PROTO_NAMES.get(proto, str(proto)),
        "icmp_orig_src": _ip4(q[12:16]),
        "icmp_orig_dst": _ip4(q[16:20]),
    }
    l4 = q[ihl:] if ihl >= 20 else q[20:]
    _quoted_ports(orig, l4, proto)
    p.cols.update(orig)
    return orig


def _quoted_ports(orig: dict[str, Any], l4: memoryview, proto: int) -> None:
    if proto in (6, 17) and len(l4) >= 4:
        orig["icmp_orig_sport"], orig["icmp_orig_dport"] = struct.unpack_from("!HH", l4, 0)
        if (
            proto == 17
            and len(l4) >= 10
            and DNS_PORTS
            & {
                orig["icmp_orig_sport"],
                orig["icmp_orig_dport"],
            }
        ):
            orig["icmp_orig_dns_id"] = struct.unpack_from("!H", l4, 8)[0]


def _unreach_text(itype: int, code: int, q: dict[str, Any], words: str | None) -> str:
    """The words tcpdump prints for an ICMP error (print-icmp.c), for the common ones."""
    dst = q.get("icmp_orig_dst", "?")
    if itype == 3:
        proto, port = q.get("icmp_orig_proto"), q.get("icmp_orig_dport")
        if code == 3 and proto in ("udp", "tcp") and port is not None:
            return f"{dst} {proto} port {port} unreachable"
        shapes = {
            0: f"net {dst} unreachable",
            1: f"host {dst} unreachable",
            2: f"{dst} protocol {q.get('icmp_orig_proto', '?')} unreachable",
            4: f"{dst} unreachable - need to frag",
            9: f"net {dst} unreachable - admin prohibited",
            10: f"host {dst} unreachable - admin prohibited",
            13: f"host {dst} unreachable - admin prohibited filter",
        }
        return shapes.get(code, f"{dst} unreachable - {words or f'code {code}'}")
    if itype == 11:
        return "time exceeded in-transit" if code == 0 else "ip reassembly time exceeded"
    return words or f"type-#{itype}"


def _icmp6(p: _Packet, b: memoryview, src: str, dst: str, wire: int) -> None:
    p.cols["proto"] = "icmp6"
    head = f"IP6 {src} > {dst}: ICMP6,"
    length = max(wire, 0)
    p.cols["length"] = length
    if len(b) < 4:
        p.short("ICMPv6 header")
        p.text = f"{head} [|icmp6]"
        return
    itype, code = b[0], b[1]
    words = _ICMP6_WORDS.get((itype, code)) or _ICMP6_TYPE_WORDS.get(itype)
    words = words or ("destination unreachable" if itype == 1 else None)
    p.cols.update(icmp_type=itype, icmp_code=code, icmp_reason=words or f"type-#{itype}")
    if itype in _ICMP6_ERRORS and len(b) >= 48:
        q = b[8:]
        nxt, at = _upper_layer(q[40:], q[6])
        orig = {
            "icmp_orig_proto": _IP_PROTO_NAMES.get(nxt, str(nxt)),
            "icmp_orig_src": _ip6(q[8:24]),
            "icmp_orig_dst": _ip6(q[24:40]),
        }
        if at is not None:
            _quoted_ports(orig, q[40 + at :], nxt)
        p.cols.update(orig)
    if itype in (128, 129) and len(b) >= 8:
        ident, seq = struct.unpack_from("!HH", b, 4)
        p.text = f"{head} {words}, id {ident}, seq {seq}, length {length}"
        return
    p.text = f"{head} {_icmp6_text(p, b, itype, code, words)}, length {length}"


def _upper_layer(body: memoryview, nxt: int) -> tuple[int, int | None]:
    """The protocol after the extension headers of a quoted IPv6 datagram (hop-by-hop,
    routing, destination options, fragment, authentication; print-icmp6.c's
    get_upperlayer()) and where its header begins in ``body``; None for the place when
    the headers run past the quote or a later fragment holds no transport header."""
    at = 0
    for _ in range(16):  # extension headers, bounded
        if nxt in (0, 43, 60, 44, 51):
            if len(body) < at + 8:  # (every extension header is 8 bytes at least)
                return nxt, None
            if nxt == 44 and struct.unpack_from("!H", body, at + 2)[0] & 0xFFF8:
                return body[at], None  # a later fragment: no transport header in it
            size = {44: 8, 51: (body[at + 1] + 2) * 4}.get(nxt, (body[at + 1] + 1) * 8)
            nxt, at = body[at], at + size
        else:
            return nxt, at
    return nxt, None


#: print-icmp6.c's words for the codes of destination unreachable (its own spacing)
_UNREACH6 = {
    0: "unreachable route",
    1: " unreachable prohibited",
    2: "beyond scope",
    3: "unreachable address",
    4: "unreachable port",
}


def _icmp6_text(p: _Packet, b: memoryview, itype: int, code: int, words: str | None) -> str:
    """What print-icmp6.c prints between "ICMP6, " and ", length N" (without -v)."""
    quoted = p.cols.get("icmp_orig_dst")
    if itype == 1:
        text = "destination unreachable, " + _UNREACH6.get(code, f"unknown unreach code ({code})")
        if code in (0, 1, 3) and quoted:
            return f"{text} {quoted}"
        if code == 2 and quoted:
            return f"{text} {quoted}, source address {p.cols['icmp_orig_src']}"
        if code == 4 and p.cols.get("icmp_orig_dport") is not None:
            proto, port = p.cols["icmp_orig_proto"], p.cols["icmp_orig_dport"]
            if proto in ("tcp", "udp"):
                return f"{text}, {quoted} {proto} port {port}"
            return f"{text}, {quoted} protocol {proto} port {port} unreachable"
        return text
    if itype == 2 and len(b) >= 8:
        return f"packet too big, mtu {struct.unpack_from('!I', b, 4)[0]}"
    if itype == 3:
        if code == 0 and quoted:
            return f"time exceeded in-transit for {quoted}"
        return "time exceeded in-transit" + (" (reassembly)" if code == 1 else "")
    if itype in (135, 136) and len(b) >= 24:  # the target address of neighbour discovery
        target = _ip6(b[8:24])
        return f"{words}, {'who has' if itype == 135 else 'tgt is'} {target}"
    if itype == 143 and len(b) >= 8:  # MLDv2 report: the number of group records
        return f"{words}, {struct.unpack_from('!H', b, 6)[0]} group record(s)"
    return words or f"type-#{itype}"
