"""Every column that comes from a record's text, read with the patterns of
:mod:`._grammar` over whole columns."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _grammar as g
from ._values import _extract, _first, _match, _np, _nz, _ports, _Reasons, _subset


def _fields(texts: pa.Array, is_record: np.ndarray) -> dict[str, pa.Array]:
    """Every column that comes from a record's text (rows that are not records stay null)."""
    rec = (
        texts
        if is_record.all()
        else pc.if_else(pa.array(is_record), texts, pa.scalar(None, texts.type))
    )
    cols: dict[str, pa.Array] = {}
    reasons = _Reasons(len(texts))
    h = _extract(rec, g.HEADER)
    cols.update({f"_h_{k}": v for k, v in h.items()})
    cols["packet"] = reasons.number(h["pkt"], "packet")

    addr = _extract(rec, g.ADDRESSES)
    link = _subset(rec, _match(rec, r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"), g.LINK)
    net = _extract(rec, g.NETWORK)
    iph = _subset(rec, _match(rec, r"\((?:tos|hlim|flowlabel|class)"), g.IP_HEADER)
    body = _extract(rec, g.BODY)

    info = addr["info"]
    core = pc.replace_substring_regex(
        pc.fill_null(info, ""), r"^\[[^\]]*\] ", "", max_replacements=1
    )
    core = pc.if_else(pc.is_valid(info), core, pa.scalar(None, core.type))
    has_addr = _np(pc.is_valid(addr["src"]))
    kw = pc.fill_null(net["kw"], "")
    ether = pc.fill_null(link["ethertype"], "")
    l4 = pc.fill_null(iph["l4"], "")

    is_icmp6 = _match(core, g.ICMP6_START) & has_addr
    is_icmp = _match(core, r"^ICMP ") & has_addr & ~is_icmp6
    is_tcp = (
        (_match(core, r"^(?:Flags \[|tcp \d)") | _np(pc.equal(l4, "TCP")))
        & has_addr
        & ~is_icmp
        & ~is_icmp6
    )
    # ports: numeric addresses split unambiguously; host names (no -n) only when the
    # last label is a port number or a known service name.
    ports_ok = has_addr & ~is_icmp & ~is_icmp6
    srcs = _split_address(addr["src"], ports_ok, reasons, "sport")
    dsts = _split_address(addr["dst"], ports_ok, reasons, "dport")
    ported = _np(pc.is_valid(srcs[1])) | _np(pc.is_valid(dsts[1]))
    # SCTP and DCCP print ports as UDP does; their own printers begin the text
    # (print-sctp.c: "sctp (1) [INIT] ...", "sctp [|sctp]"; print-dccp.c: "DCCP
    # DCCP-Request (service=0)", with -v "DCCP (CCVal 0, CsCov 0, cksum 0x...) ..."), and
    # a -v IP header names them ("proto SCTP (132)", "next-header DCCP (33)")
    datagram = ported & ~is_tcp & ~is_icmp & ~is_icmp6
    is_sctp = datagram & (_match(core, g.SCTP_START) | _np(pc.equal(l4, "SCTP")))
    is_dccp = datagram & ~is_sctp & (_match(core, g.DCCP_START) | _np(pc.equal(l4, "DCCP")))
    is_udp = datagram & ~is_sctp & ~is_dccp
    is_arp = (
        _np(pc.is_in(kw, pa.array(["ARP", "RARP"])))
        | _np(pc.is_in(ether, pa.array(["ARP", "RARP"])))
    ) & ~has_addr
    is_ip6 = has_addr & _np(pc.match_substring(pc.fill_null(srcs[0], ""), ":")) | (
        ~has_addr & _np(pc.is_in(kw, pa.array(["IP6", "ip6"])))
    )
    is_ip = (
        has_addr
        | _np(pc.is_in(kw, pa.array(["IP", "ip"])))
        | _np(pc.is_in(ether, pa.array(["IPv4"])))
    ) & ~is_ip6
    proto = np.select(
        [~is_record, is_icmp6, is_icmp, is_tcp, is_sctp, is_dccp, is_udp, is_arp, is_ip6, is_ip],
        ["unparsed", "icmp6", "icmp", "tcp", "sctp", "dccp", "udp", "arp", "ip6", "ip"],
        default="other",
    )
    cols["proto"] = pa.array(proto)
    cols["src"], cols["sport"] = srcs
    cols["dst"], cols["dport"] = dsts
    cols["ttl"] = reasons.number(iph["ttl"], "ttl")
    cols["link_src"], cols["link_dst"] = link["lsrc"], link["ldst"]
    cols["info"] = pc.if_else(pc.is_valid(info), info, body["body"])

    # ---- ARP: who asks and who answers
    arp = _subset(pc.fill_null(body["body"], ""), is_arp, g.ARP)
    cols["src"] = _first(cols["src"], arp["asker"], arp["sender"])
    cols["dst"] = _first(cols["dst"], arp["target"])

    # ---- TCP
    tcp = _subset(core, is_tcp, g.TCP)
    cols["tcp_flags"] = tcp["flags"]
    cols["tcp_seq"] = tcp["seq"]
    cols["tcp_ack"] = reasons.number(tcp["ack"], "tcp_ack")
    cols["tcp_win"] = reasons.number(tcp["win"], "tcp_win")

    # ---- lengths: the last "length N" or "(N)" the first address line reports (the
    # number chosen is read once all are known: one past the range is no value, not a
    # reason to take another)
    last = _extract(cols["info"], g.LAST_LENGTH)
    udp = _subset(core, is_udp, g.UDP)
    length = _first(
        tcp["length"],
        tcp["qlength"],
        udp["length"],
        udp["qlength"],
        last["length"],
        last["dnslen"],
        arp["length"],
    )
    # SCTP and DCCP: only a "length N" of the text is a length (SCTP's "(1)" numbers its
    # first chunk); without one the length stays empty
    said = is_sctp | is_dccp
    if said.any():
        words = _subset(cols["info"], said, g.LENGTH_WORD)
        length = pc.if_else(pa.array(said), words["length"], length)

    # ---- DNS, over UDP or TCP
    dns_text = _subset(core, (is_udp | is_tcp), g.DNS_TEXT)["dns"]
    dns = _subset(pc.fill_null(dns_text, ""), _np(pc.is_valid(dns_text)), g.DNS)
    is_resp = _np(pc.is_valid(dns["an"]))
    is_query = _np(pc.is_valid(dns["qtype"])) & ~is_resp
    is_dns = is_resp | is_query
    mask_dns = pa.array(is_dns)

    def dns_only(arr: pa.Array) -> pa.Array:
        return pc.if_else(mask_dns, arr, pa.scalar(None, arr.type))

    cols["dns_id"] = reasons.number(dns_only(dns["id"]), "dns_id")
    qr = np.full(len(texts), None, dtype=object)
    qr[is_query], qr[is_resp] = "query", "response"
    cols["dns_qr"] = pa.array(qr, pa.large_string())
    cols["dns_flags"] = dns_only(dns["flags"])
    cols["dns_qtype"] = dns_only(dns["qtype"])
    qname = pc.replace_substring_regex(pc.fill_null(dns["qname"], ""), r"(.)\.$", r"\1")
    cols["dns_qname"] = dns_only(
        pc.if_else(pc.is_valid(dns["qname"]), qname, pa.scalar(None, qname.type))
    )
    rcode = pc.fill_null(dns["rcode"], "NoError")
    cols["dns_rcode"] = pc.if_else(pa.array(is_resp), rcode, pa.scalar(None, rcode.type))
    an = pc.if_else(pa.array(is_resp), dns["an"], pa.scalar(None, dns["an"].type))
    cols["dns_ancount"] = reasons.number(an, "dns_ancount")
    answers = _nz(pc.utf8_trim_whitespace(pc.fill_null(dns["answers"], "")))
    cols["dns_answers"] = pc.if_else(pa.array(is_resp), answers, pa.scalar(None, answers.type))
    length = pc.if_else(pa.array(is_dns & is_udp), _first(dns["dlen"], length), length)

    # ---- ICMP and ICMPv6
    icmp = _subset(core, is_icmp, g.ICMP)
    icmp6 = _subset(core, is_icmp6, g.ICMP6)
    icmp_text = _first(icmp["text"], icmp["bare"])
    length = pc.if_else(pa.array(is_icmp), _first(icmp["length"], length), length)
    _icmp_columns(cols, icmp_text, icmp6["text"], is_icmp, is_icmp6, rec, reasons)
    cols["length"] = reasons.number(length, "length")
    cols["_error"] = reasons.joined()
    return cols


def _split_address(
    tokens: pa.Array, ported: np.ndarray, reasons: _Reasons, column: str
) -> tuple[pa.Array, pa.Array]:
    """Address tokens into host and port (``column``: a port past 65535 is a reason)."""
    num = _extract(tokens, g.NUMERIC_ADDRESS)
    is_num = _np(pc.is_valid(num["host"]))
    named = _np(pc.is_valid(tokens)) & ~is_num
    host = num["host"]
    port_tok = pc.if_else(pa.array(ported), num["port"], pa.scalar(None, pa.large_string()))
    if named.any():
        nm = _subset(tokens, named & ported, g.NAMED_ADDRESS)
        nm_port = _ports(nm["port"])[0]
        split_ok = pc.fill_null(pc.is_valid(nm_port), False)
        name_host = pc.if_else(split_ok, nm["host"], tokens)
        host = pc.if_else(pa.array(named), name_host, host)
        port_tok = pc.if_else(
            pa.array(named),
            pc.if_else(split_ok, nm["port"], pa.scalar(None, pa.large_string())),
            port_tok,
        )
    # an IPv4 token with no port is a host of four labels, kept whole
    host = _first(host, tokens)
    port, past = _ports(port_tok)
    reasons.add(column, port_tok, past)
    return host, port


def _icmp_columns(
    cols: dict[str, pa.Array],
    text4: pa.Array,
    text6: pa.Array,
    is_icmp: np.ndarray,
    is_icmp6: np.ndarray,
    rec: pa.Array,
    reasons: _Reasons,
) -> None:
    n = len(text4)
    itype = np.full(n, -1, dtype=np.int64)
    icode = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    for text, rows, shapes in ((text4, is_icmp, g.ICMP_SHAPES), (text6, is_icmp6, g.ICMP6_SHAPES)):
        if not rows.any():
            continue
        todo = rows.copy()
        filled = pc.fill_null(text, "")
        for pattern, typ, code, words in shapes:
            hit = todo & _match(filled, pattern.replace("#", r"\S+"))
            itype[hit], icode[hit], reason[hit] = typ, code, words
            todo &= ~hit
        # anything tcpdump names that the tables do not: keep its words
        reason[todo] = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=object)[todo]
    type_num = re.compile(r"type-#([0-9]+)")
    numbered = np.full(n, None, dtype=object)
    for i in np.flatnonzero(is_icmp & (itype < 0)):
        m = type_num.search(str(reason[i]))
        if m:
            numbered[i] = m.group(1)
    if (numbered != None).any():  # noqa: E711 (element-wise)
        typed = reasons.number(pa.array(numbered, pa.large_string()), "icmp_type")
        valid = _np(pc.is_valid(typed))
        itype[valid] = np.asarray(pc.drop_null(typed).to_numpy(), dtype=np.int64)
    cols["icmp_type"] = pa.array(itype, pa.int64(), mask=itype < 0)
    cols["icmp_code"] = pa.array(icode, pa.int64(), mask=icode < 0)
    cols["icmp_reason"] = pa.array(reason, pa.large_string())

    # what the error says about the datagram it answers
    unreach4 = is_icmp & (itype == 3)
    q4 = _subset(pc.fill_null(text4, ""), unreach4, g.ICMP_UNREACH_QUOTED)
    unreach6 = is_icmp6 & (itype == 1)
    q6 = _subset(pc.fill_null(text6, ""), unreach6, g.ICMP6_UNREACH_QUOTED)
    exceeded6 = is_icmp6 & (itype == 3)
    x6 = _subset(pc.fill_null(text6, ""), exceeded6, g.ICMP6_EXCEEDED_QUOTED)
    pnum = _first(q4["pnum"], pa.nulls(n, pa.large_string()))
    cols["icmp_orig_dst"] = _first(q4["dst"], q6["dst"], q6["dst1"], x6["dst"])
    cols["icmp_orig_proto"] = _first(q4["proto"], q6["proto"], pnum)
    text_port = _first(q4["port"], q4["pport"], q6["port"])
    cols["icmp_orig_dport"], port_past = _ports(text_port)
    reasons.add("icmp_orig_dport", text_port, port_past)

    # -v prints the quoted datagram itself on the following lines: decode it
    errors = (is_icmp & np.isin(itype, [3, 4, 5, 11, 12])) | (
        is_icmp6 & np.isin(itype, [1, 2, 3, 4])
    )
    quoted = _subset(rec, errors & _match(rec, r"\n"), g.ICMP_QUOTED_V)
    q6v = _subset(rec, errors & is_icmp6, g.ICMP6_QUOTED_V)
    qsrc_tok = _first(quoted["src"], q6v["src"])
    qdst_tok = _first(quoted["dst"], q6v["dst"])
    qproto = pc.utf8_lower(pc.fill_null(_first(quoted["proto"], q6v["proto"]), ""))
    has_q = _np(pc.is_valid(qsrc_tok))
    ported = has_q & _np(pc.is_in(qproto, pa.array(["udp", "tcp"])))
    qsrc, qsport = _split_address(qsrc_tok, ported, reasons, "icmp_orig_sport")
    qdst, qdport = _split_address(qdst_tok, ported, reasons, "icmp_orig_dport")
    cols["icmp_orig_src"] = qsrc
    cols["icmp_orig_sport"] = qsport
    cols["icmp_orig_dst"] = _first(cols["icmp_orig_dst"], qdst)
    cols["icmp_orig_dport"] = _first(cols["icmp_orig_dport"], qdport)
    if port_past.any():  # (a port past the range is no value: the quoted one is not taken)
        no_port = pa.scalar(None, cols["icmp_orig_dport"].type)
        cols["icmp_orig_dport"] = pc.if_else(pa.array(port_past), no_port, cols["icmp_orig_dport"])
    qp = pc.if_else(pa.array(has_q), qproto, pa.scalar(None, qproto.type))
    cols["icmp_orig_proto"] = _first(cols["icmp_orig_proto"], _nz(qp))
    qinfo = _first(quoted["info"], q6v["info"])
    qdns = _subset(pc.fill_null(qinfo, ""), ported, g.DNS_TEXT)["dns"]
    qid = _subset(pc.fill_null(qdns, ""), _np(pc.is_valid(qdns)), g.DNS)
    is_qdns = _np(pc.is_valid(qid["qtype"])) | _np(pc.is_valid(qid["an"]))
    qdid = pc.if_else(pa.array(is_qdns), qid["id"], pa.scalar(None, qid["id"].type))
    cols["icmp_orig_dns_id"] = reasons.number(qdid, "icmp_orig_dns_id")
