"""The capture reader's DNS decoder: a message's bytes, read as tcpdump reads them.

:func:`decode_dns` takes a DNS message (a UDP payload, or a TCP payload with its two-byte
length prefix) and returns a :class:`Dns`: the values the text reader would take from
tcpdump's line for that packet (``dns_id`` ... ``dns_answers``), the DNS part of the line
itself as ``tcpdump -nn`` prints it, and why the message could not be read to its end.

Two readings are made of every message:

* tcpdump's: a port of tcpdump 4.99's ``print-domain.c`` (``domain_print()``,
  ``ns_rprint()``, ``fqdn_print()``, ...) that writes the text, word for word, at the
  verbosity asked for. It reads what tcpdump reads and no more (without ``-vv`` it skips
  over the names of the records it does not print), so its text is the one tcpdump prints,
  malformed messages included (``[|domain]``, ``<BAD PTR>``, ...).
* the decoder's own: every section and every record, with each bound checked, for the
  question's name and type and for :attr:`Dns.error`.

Compression pointers (RFC 1035, 4.1.4: "a pointer to a prior occurance of the same name")
must point strictly backwards: before the start of the name, and then before the place the
previous pointer pointed to. This is tcpdump's rule too (``fqdn_print()``: "This must move
backwards in the packet. No RFC explicitly says that, but BIND's name decompression code
requires it, as a way of preventing infinite loops"), so no pointer can loop; tcpdump
prints ``<BAD PTR>`` for one that breaks it, and :attr:`Dns.error` says whether it loops,
points forward or points past the message.

tcpdump reads a name to its end however long it is (printing its first 255 characters,
then ``<DOMAIN NAME TOO LONG>``) and follows any number of pointers, so that a message of
names that run over one another, or of long chains of pointers, can cost it time quadratic in
the message's length. This decoder reads a name for at most :data:`MAX_LABELS` labels and
:data:`MAX_POINTERS` pointers: within them its text is tcpdump's, past them the text ends
there with `` [|domain]`` and the error says why. What a pointer leads to is read once per
message and then copied, so a message of thousands of records that point to one name costs
the time of copying it. The decoder's own reading stops a name past 255 bytes (RFC 1035,
2.3.4: "names 255 octets or less"). Nothing recurses on the message's contents, and counts
(QDCOUNT, ANCOUNT, ...) are never trusted: every loop over records stops at the end of the
message. A message costs time linear in its length.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_LABELS", "MAX_POINTERS", "Dns", "decode_dns"]

#: RFC 1035, 4.1.1: "the header section is always present ... 12 octets"
_HEADER_SIZE: Final = 12
#: nameser.h: MAXCDNAME, "maximum compressed domain name" (RFC 1035, 2.3.4: "names 255
#: octets or less")
_MAXCDNAME: Final = 255
#: The most compression pointers one name may follow (one for each label of a 255-byte
#: name, and one more), and the most labels it may have (twice what a 255-byte name has,
#: so that tcpdump's text is kept for names somewhat too long); past either the name is
#: not read on.
MAX_POINTERS: Final = 128
MAX_LABELS: Final = 255
_TOO_MANY_POINTERS: Final = f"a name follows more than {MAX_POINTERS} compression pointers"

# RFC 1035, 4.1.4: "The first two bits are ones. This allows a pointer to be distinguished
# from a label, since the label must begin with two zero bits ... (The 10 and 01
# combinations are reserved for future use.)"; nameser.h's TYPE_MASK and its cases
_TYPE_MASK: Final = 0xC0
_TYPE_INDIR: Final = 0xC0
_TYPE_EDNS0: Final = 0x40  # RFC 2671's extended label type (retired by RFC 6891)
_TYPE_RESERVED: Final = 0x80
#: RFC 2673's bit-string label, the one extended label type tcpdump prints
_EDNS0_ELT_BITLABEL: Final = 0x01

# RFC 1035, 3.2.2 TYPE values, and the later ones tcpdump names (print-domain.c's
# ns_type2str[]); the others print as "Type%u"
_TYPES: Final[dict[int, str]] = {
    1: "A",
    2: "NS",
    3: "MD",
    4: "MF",
    5: "CNAME",
    6: "SOA",
    7: "MB",
    8: "MG",
    9: "MR",
    10: "NULL",
    11: "WKS",
    12: "PTR",
    13: "HINFO",
    14: "MINFO",
    15: "MX",
    16: "TXT",
    17: "RP",
    18: "AFSDB",
    19: "X25",
    20: "ISDN",
    21: "RT",
    22: "NSAP",
    23: "NSAP_PTR",
    24: "SIG",
    25: "KEY",
    26: "PX",
    27: "GPOS",
    28: "AAAA",
    29: "LOC",
    30: "NXT",
    31: "EID",
    32: "NIMLOC",
    33: "SRV",
    34: "ATMA",
    35: "NAPTR",
    36: "KX",
    37: "CERT",
    38: "A6",
    39: "DNAME",
    40: "SINK",
    41: "OPT",
    42: "APL",
    43: "DS",
    44: "SSHFP",
    45: "IPSECKEY",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    99: "SPF",
    100: "UINFO",
    101: "UID",
    102: "GID",
    103: "UNSPEC",
    104: "UNSPECA",
    249: "TKEY",
    250: "TSIG",
    251: "IXFR",
    252: "AXFR",
    253: "MAILB",
    254: "MAILA",
    255: "ANY",
    256: "URI",
}
_T_A, _T_NS, _T_CNAME, _T_SOA, _T_PTR, _T_MX, _T_TXT = 1, 2, 5, 6, 12, 15, 16
_T_AAAA, _T_SRV, _T_A6, _T_DNAME, _T_OPT = 28, 33, 38, 39, 41
_T_UNSPECA, _T_TSIG, _T_URI = 104, 250, 256

# RFC 1035, 3.2.4 CLASS values (print-domain.c's ns_class2str[]); others "(Class %u)"
_CLASSES: Final[dict[int, str]] = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}
_C_IN: Final = 1
#: RFC 6762, 5.4 / 10.2: the top bit of an mDNS question's class asks for a unicast
#: response (QU); of a record's class, it is the cache-flush bit
_C_QU: Final = 0x8000

#: RFC 1035, 4.1.1 OPCODE (and the non-standard ones of old BIND), print-domain.c's ns_ops[]
_OPCODES: Final = (
    *("", " inv_q", " stat", " op3", " notify", " update", " op6", " op7"),
    *(" op8", " updateA", " updateD", " updateDA", " updateM", " updateMA"),
    *(" zoneInit", " zoneRef"),
)
#: RFC 1035, 4.1.1 RCODE, RFC 2136, 6891 and 7873 (ns_resp[]); two lack their blank in
#: tcpdump's table, and the text reader reads them so
_RCODE_WORDS: Final = (
    *("", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain"),
    *(" YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13"),
    *(" Resp14", " NoChange", " BadVers", "Resp17", " Resp18", " Resp19", " Resp20"),
    *("Resp21", " Resp22", " BadCookie"),
)
#: RFC 1035, 4.1.1 IQUERY: the one opcode whose query prints its counts differently
_IQUERY: Final = 1

# RFC 6891 EDNS(0) option codes (print-domain.c's edns_opt2str[])
_EDNS_OPTIONS: Final[dict[int, str]] = {
    1: "LLQ",
    2: "UL",
    3: "NSID",
    5: "DAU",
    6: "DHU",
    7: "N3U",
    8: "ECS",
    9: "EXPIRE",
    10: "COOKIE",
    11: "KEEPALIVE",
    12: "PADDING",
    13: "CHAIN",
    14: "KEY-TAG",
    16: "CLIENT-TAG",
    17: "SERVER-TAG",
}
_E_NSID, _E_DAU, _E_DHU, _E_N3U, _E_ECS, _E_EXPIRE = 3, 5, 6, 7, 8, 9
_E_COOKIE, _E_KEEPALIVE, _E_PADDING, _E_CHAIN, _E_KEYTAG = 10, 11, 12, 13, 14
# RFC 6975 algorithm numbers (dau_alg2str[], dhu_alg2str[], n3u_alg2str[])
_DAU: Final[dict[int, str]] = {
    0: "DELETE",
    1: "RSAMD5",
    2: "DH",
    3: "DS",
    5: "RSASHA1",
    6: "DSA-NSEC3-SHA1",
    7: "RSASHA1-NSEC3-SHA1",
    8: "RSASHA256",
    10: "RSASHA512",
    12: "ECC-GOST",
    13: "ECDSAP256SHA256",
    14: "ECDSAP384SHA384",
    15: "ED25519",
    16: "ED448",
    252: "INDIRECT",
    253: "PRIVATEDNS",
    254: "PRIVATEOID",
}
_DHU: Final[dict[int, str]] = {1: "SHA-1", 2: "SHA-256", 3: "GOST_R_34.11-94", 4: "SHA-384"}
_N3U: Final[dict[int, str]] = {1: "SHA-1"}


def _char(c: int) -> str:
    """util-print.c's fn_print_char(): "M-" for the top bit, "^" for a control character."""
    out = ""
    if c >= 0x80:  # !ND_ISASCII(c): c = ND_TOASCII(c); ND_PRINT("M-")
        c &= 0x7F
        out = "M-"
    if not 0x20 <= c <= 0x7E:  # !ND_ASCII_ISPRINT(c): c ^= 0x40 /* DEL to ?, others to alpha */
        return f"{out}^{chr(c ^ 0x40)}"
    return out + chr(c)


#: how tcpdump prints each byte of a name or a string
_CHARS: Final = tuple(_char(c) for c in range(256))


def _printable(raw: bytes) -> str:
    return "".join([_CHARS[c] for c in raw])


def _ip4(raw: bytes) -> str:
    return ".".join(str(b) for b in raw[:4])


def _ip6(raw: bytes) -> str:
    """addrtostr.c's addrtostr6(): the longest (first) run of two or more zero words is
    "::"; "::a.b.c.d" and "::ffff:a.b.c.d" keep their IPv4 tail."""
    words = struct.unpack("!8H", raw)
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, w in enumerate(words):
        if w == 0:
            if cur_base == -1:
                cur_base, cur_len = i, 1
            else:
                cur_len += 1
        elif cur_base != -1:
            if best_base == -1 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if cur_base != -1 and (best_base == -1 or cur_len > best_len):
        best_base, best_len = cur_base, cur_len
    if best_base != -1 and best_len < 2:
        best_base = -1
    out = []
    for i in range(8):
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out.append(":")
            continue
        if i:
            out.append(":")
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(_ip4(raw[12:16]))
            break
        out.append(f"{words[i]:x}")
    if best_base != -1 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)


def _relts(secs: int) -> str:
    """util-print.c's unsigned_relts_print(): 90061 -> "1d1h1m1s"."""
    if secs == 0:
        return "0s"
    out = []
    for unit, size in (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            out.append(f"{secs // size}{unit}")
            secs %= size
    if secs:
        out.append(f"{secs}s")
    return "".join(out)


def _type_name(t: int) -> str:
    """tok2str(ns_type2str, "Type%u", t)."""
    return _TYPES.get(t) or f"Type{t}"


def _rcode_word(rcode: int) -> str:
    """ns_rcode(): the word tcpdump prints after the id for an RCODE (of 12 bits, with the
    OPT record's EXTENDED-RCODE)."""
    return _RCODE_WORDS[rcode] if rcode < len(_RCODE_WORDS) else f" Resp{rcode & 0xFFF}"


@dataclass
class Dns:
    """One DNS message, as the text reader would read tcpdump's line for it.

    Attributes
    ----------
    id : int
        RFC 1035, 4.1.1 ID: "A 16 bit identifier assigned by the program that generates
        any kind of query" (``dns_id``).
    qr : str
        ``"query"`` or ``"response"`` (QR: "whether this message is a query (0), or a
        response (1)").
    flags : str
        The flag characters tcpdump prints after the id, opcode and rcode (``dns_flags``):
        for a query ``+`` (RD, recursion desired) and ``%`` (CD, checking disabled); for a
        response ``*`` (AA, authoritative answer), ``-`` (RA, recursion available, is not
        set), ``|`` (TC, truncated) and ``$`` (AD, authentic data), in that order;
        ``""`` when there are none (the text reader's column is then null).
    qtype : str or None
        The first question's QTYPE as tcpdump names it (``"A"``, ``"AAAA"``,
        ``"Type65534"``); of a response too, though tcpdump prints a response's question
        only with ``-vv``. None without a question or when it could not be read.
    qname : str or None
        The first question's QNAME as tcpdump prints it (bytes outside printable ASCII
        as ``M-`` and ``^`` escapes), without the trailing dot; the root is ``"."``.
        None when the name could not be read (see :attr:`error`), or is a pointer to the
        root, which tcpdump prints as nothing.
    rcode : str or None
        Responses only: ``"NoError"``, ``"NXDomain"``, ``"ServFail"``, ... with the
        extended RCODE of an OPT record (RFC 6891, 6.1.3), as ``BadVers``, ``BadCookie``,
        ``Resp4095``.
    ancount : int or None
        Responses only: ANCOUNT, "the number of resource records in the answer section",
        as the header says it (the records present may be fewer).
    answers : str or None
        Responses only: the answer records as tcpdump prints them at the verbosity asked
        for (``"A 192.0.2.1, A 192.0.2.2"``; with ``verbose >= 1`` each led by its
        owner name), None when nothing is printed there.
    text : str
        The DNS part of tcpdump's line: what follows ``"src > dst: "`` for UDP, what
        follows the TCP header's words (and their blank) for TCP, with tcpdump's
        ``" (N)"`` length, ``" [|domain]"`` where it stops short.
    error : str or None
        Why the message could not be read to its end; the values read before it stay.
    """

    id: int
    qr: str
    flags: str
    qtype: str | None
    qname: str | None
    rcode: str | None
    ancount: int | None
    answers: str | None
    text: str
    error: str | None


class _Truncated(Exception):
    """A read past the captured bytes: tcpdump's GET_*() macros longjmp out of the printer
    (nd_trunc_longjmp()), which then prints " [|domain]"."""


@dataclass
class _Name:
    """What tcpdump's fqdn_print() prints of a name and where it returns."""

    printed: str
    rp: int | None  # the offset after the name where it is stored (None: NULL, failed)
    reason: str | None  # the decoder's own reason when it stopped where tcpdump goes on


class _Printer:
    """print-domain.c's domain_print(), over ``msg``: offsets are from the message's first
    byte; ``end`` is what tcpdump calls ndo_snapend (the last byte it may read, plus one)."""

    def __init__(self, msg: bytes, verbose: int, mdns: bool) -> None:
        self.msg = msg
        self.end = len(msg)
        self.vflag = verbose
        self.mdns = mdns
        self.out: list[str] = []
        self.reason: str | None = None  # why the printing stopped short, the first time
        self.answers_end: int | None = None  # where the answer section's text ends in out
        #: what fqdn_print() prints after a name's first pointer, by where it points and
        #: what was read before it: (text, whether the name ended well, reason)
        self.names: dict[tuple[int, int, int, int, int], tuple[str, bool, str | None]] = {}

    # ------------------------------------------------------------------ reads
    def _ttest(self, off: int, n: int = 1) -> bool:
        """ND_TTEST_LEN(): ``n`` bytes at ``off`` were captured."""
        return off >= 0 and off + n <= self.end

    def _u1(self, off: int) -> int:
        """GET_U_1(): the byte at ``off``."""
        if not 0 <= off < self.end:
            raise _Truncated
        return self.msg[off]

    def _u2(self, off: int) -> int:
        """GET_BE_U_2(): the big-endian 16-bit number at ``off``."""
        if not 0 <= off <= self.end - 2:
            raise _Truncated
        return int(self.msg[off]) << 8 | self.msg[off + 1]

    def _u4(self, off: int) -> int:
        """GET_BE_U_4(): the big-endian 32-bit number at ``off``."""
        if not 0 <= off <= self.end - 4:
            raise _Truncated
        return int.from_bytes(self.msg[off : off + 4], "big")

    def _print(self, s: str) -> None:
        """ND_PRINT()."""
        self.out.append(s)

    def _printn(self, off: int, n: int) -> bool:
        """util-print.c's nd_printn(): ``n`` bytes, stopping at the end of the capture;
        True when it had to stop short ("Return true if truncated")."""
        stop = min(off + n, self.end)
        if off < stop:
            self.out.append(_printable(self.msg[off:stop]))
        return off + n > self.end

    # ------------------------------------------------------------------ names
    def skip_name(self, cp: int) -> int | None:
        """ns_nskip(): "skip over a domain name" without following its pointer."""
        if not self._ttest(cp):
            return None
        i = self.msg[cp]
        cp += 1
        while i:
            kind = i & _TYPE_MASK
            if kind == _TYPE_INDIR:
                return cp + 1
            if kind == _TYPE_EDNS0:
                if (i & ~_TYPE_MASK) != _EDNS0_ELT_BITLABEL:
                    return None  # "unknown ELT"
                if not self._ttest(cp):
                    return None
                bitlen = self.msg[cp] or 256
                cp += 1 + (bitlen + 7) // 8
            elif kind == _TYPE_RESERVED:
                return None
            else:
                cp += i
            if not self._ttest(cp):
                return None
            i = self.msg[cp]
            cp += 1
        return cp

    def _labellen(self, cp: int, out: list[str]) -> int:
        """labellen(): the length of the label at ``cp`` (-1: none readable)."""
        if not self._ttest(cp):
            return -1
        i = self.msg[cp]
        kind = i & _TYPE_MASK
        if kind == _TYPE_EDNS0:
            elt = i & ~_TYPE_MASK
            if elt != _EDNS0_ELT_BITLABEL:
                out.append(f"<ELT {elt}>")
                return -1
            if not self._ttest(cp + 1):
                return -1
            bitlen = self.msg[cp + 1] or 256
            return (bitlen + 7) // 8 + 1
        if kind in (_TYPE_INDIR, 0):
            return i
        out.append("<BAD LABEL TYPE>")
        return -1

    def _blabel(self, cp: int, out: list[str]) -> None:
        """blabel_print(): an RFC 2673 bit-string label as "\\[x<hex>/<bits>]"."""
        bitlen = self._u1(cp) or 256
        lim = cp + 1 + (bitlen + 3) // 4
        out.append("\\[x")
        bitp, b = cp + 1, bitlen
        while bitp < lim and b > 7:
            out.append(f"{self._u1(bitp):02x}")
            b -= 8
            bitp += 1
        if b > 4:
            out.append(f"{self._u1(bitp) & (0xFF << (8 - b)) & 0xFF:02x}")
        elif b > 0:
            out.append(f"{((self._u1(bitp) >> 4) & 0x0F) & (0x0F << (4 - b)) & 0x0F:1x}")
        out.append(f"/{bitlen}]")

    def _name(self, cp: int, bp: int = 0) -> _Name:
        """fqdn_print(): "print a <domain-name>" at ``cp``, its pointers counted from ``bp``.

        tcpdump's reading, with two stops of the decoder's own (see the module's
        docstring): past MAX_LABELS labels, and past MAX_POINTERS pointers. What follows
        a name's first pointer depends only on where it points and on how much was read
        before, so it is kept, and a message of many names pointing to the same one
        prints each in the time of copying it.
        """
        out: list[str] = []
        msg = self.msg
        key: tuple[int, int, int, int, int] | None = None  # the first pointer's state
        mark = 0  # where, in out, what follows the first pointer begins

        def done(rp: int | None, reason: str | None = None) -> _Name:
            if key is not None:
                self.names[key] = ("".join(out[mark:]), rp is not None, reason)
            return _Name("".join(out), rp, reason)

        try:
            size = self._labellen(cp, out)
            if size == -1 or not self._ttest(cp):
                return _Name("".join(out), None, None)
            max_offset = (cp - bp) & 0xFFFFFFFF
            i = msg[cp]
            cp += 1
            compress = False
            rp: int | None = None
            if (i & _TYPE_MASK) != _TYPE_INDIR:
                rp = cp + size
            name_chars = 0
            jumps = labels = 0
            if i == 0:
                out.append(".")
                return _Name("".join(out), rp, None)
            while i and cp < self.end:
                kind = i & _TYPE_MASK
                if kind == _TYPE_INDIR:
                    if not compress:
                        rp = cp + 1
                        compress = True
                    if not self._ttest(cp):
                        return done(None)
                    offset = ((i << 8) | msg[cp]) & 0x3FFF
                    # "This must move backwards in the packet."
                    if offset >= max_offset:
                        out.append("<BAD PTR>")
                        return done(None)
                    jumps += 1
                    if jumps > MAX_POINTERS:
                        return done(None, _TOO_MANY_POINTERS)
                    if key is None:
                        key = (bp, offset, name_chars, jumps, labels)
                        mark = len(out)
                        kept = self.names.get(key)
                        if kept is not None:
                            out.append(kept[0])
                            return _Name("".join(out), rp if kept[1] else None, kept[2])
                    max_offset = offset
                    cp = bp + offset
                    if not self._ttest(cp):
                        return done(None)
                    i = msg[cp]
                    size = self._labellen(cp, out)
                    if size == -1:
                        return done(None)
                    cp += 1
                    continue
                if kind == _TYPE_EDNS0:
                    elt = i & ~_TYPE_MASK
                    if elt != _EDNS0_ELT_BITLABEL:
                        out.append(f"<ELT {elt}>")  # "unknown ELT"
                        return done(None)
                    self._blabel(cp, out)
                elif kind == _TYPE_RESERVED:
                    out.append("<BAD LABEL TYPE>")
                    return done(None)
                else:
                    # print the label while the name is within MAXCDNAME characters
                    if name_chars + size <= _MAXCDNAME:
                        stop = min(cp + size, self.end)
                        out.append(_printable(msg[cp:stop]))
                        if cp + size > self.end:
                            return done(None)
                    elif name_chars < _MAXCDNAME:
                        n = _MAXCDNAME - name_chars
                        stop = min(cp + n, self.end)
                        out.append(_printable(msg[cp:stop]))
                        if cp + n > self.end:
                            return done(None)
                    name_chars += size
                cp += size
                if name_chars <= _MAXCDNAME:
                    out.append(".")
                name_chars += 1
                labels += 1
                if labels > MAX_LABELS:
                    return done(None, f"a name has more than {MAX_LABELS} labels")
                if not self._ttest(cp):
                    return done(None)
                i = msg[cp]
                size = self._labellen(cp, out)
                if size == -1:
                    return done(None)
                cp += 1
                if not compress and rp is not None:
                    rp += size + 1
            if name_chars > _MAXCDNAME:
                out.append("<DOMAIN NAME TOO LONG>")
            return done(rp)
        except _Truncated:
            self.out.extend(out)
            raise

    def _fqdn(self, cp: int, bp: int = 0) -> int | None:
        """fqdn_print() into the output: the offset after the name, or None (NULL)."""
        name = self._name(cp, bp)
        self.out.append(name.printed)
        if name.reason and self.reason is None:
            self.reason = name.reason
        return name.rp

    # ------------------------------------------------------------------ records
    def _qprint(self, cp: int) -> int | None:
        """ns_qprint(): "print a query": " TYPE (Class)? name"."""
        np = cp
        skipped = self.skip_name(cp)
        if skipped is None or not self._ttest(skipped, 4):
            return None
        qtype = self._u2(skipped)
        self._print(" " + _type_name(qtype))
        i = self._u2(skipped + 2)
        qclass = i & ~_C_QU if self.mdns else i
        if qclass != _C_IN:
            self._print(" " + (_CLASSES.get(qclass) or f"(Class {qclass})"))
        if self.mdns:
            self._print(" (QU)" if i & _C_QU else " (QM)")
        self._print("? ")
        rp = self._fqdn(np)
        return rp + 4 if rp is not None else None

    def _rprint(self, cp: int) -> int | None:
        """ns_rprint(): "print a reply" (a resource record of any section)."""
        start: int | None = cp
        if self.vflag:
            self._print(" ")
            start = self._fqdn(cp)
            if start is None:
                return None
        else:
            start = self.skip_name(cp)
        if start is None or not self._ttest(start, 10):
            return self.end
        cp = start
        typ = self._u2(cp)
        cp += 2
        i = self._u2(cp)
        cp += 2
        rclass = i & ~_C_QU if self.mdns else i
        # "print the class (if it's not IN and the type isn't OPT)"
        if rclass != _C_IN and typ != _T_OPT:
            self._print(" " + (_CLASSES.get(rclass) or f"(Class {rclass})"))
        if self.mdns and i & _C_QU:
            self._print(" (Cache flush)")
        opt_flags = 0
        if typ == _T_OPT:
            # RFC 6891, 6.1.3: the TTL holds EXTENDED-RCODE, VERSION, and DO and Z
            cp += 2
            opt_flags = self._u2(cp)
            cp += 2
        elif self.vflag > 2:
            self._print(f" [{_relts(self._u4(cp))}]")
            cp += 4
        else:
            cp += 4  # "ignore ttl"
        length = self._u2(cp)
        cp += 2
        rp = cp + length
        self._print(" " + _type_name(typ))
        if rp > self.end:
            return None
        if typ == _T_A:
            if not self._ttest(cp, 4):
                return None
            self._print(" " + _ip4(self.msg[cp : cp + 4]))
        elif typ in (_T_NS, _T_CNAME, _T_PTR, _T_DNAME):
            self._print(" ")
            if self._fqdn(cp) is None:
                return None
        elif typ == _T_SOA:
            if not self.vflag:
                return rp
            self._print(" ")
            mname = self._fqdn(cp)
            if mname is None:
                return None
            self._print(" ")
            rname = self._fqdn(mname)
            if rname is None:
                return None
            if not self._ttest(rname, 20):
                return None
            # RFC 1035, 3.3.13: SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM
            self._print("".join(f" {v}" for v in struct.unpack_from("!5I", self.msg, rname)))
        elif typ == _T_MX:
            # RFC 1035, 3.3.9: "PREFERENCE ... EXCHANGE"; tcpdump prints the name first
            self._print(" ")
            if not self._ttest(cp, 2):
                return None
            if self._fqdn(cp + 2) is None:
                return None
            self._print(f" {self._u2(cp)}")
        elif typ == _T_TXT:
            # RFC 1035, 3.3.14: "One or more <character-string>s", each printed quoted
            while cp < rp:
                self._print(' "')
                if not self._ttest(cp):
                    return None
                n = self.msg[cp]
                if self._printn(cp + 1, n):
                    return None
                cp += 1 + n
                self._print('"')
        elif typ == _T_SRV:
            # RFC 2782: Priority, Weight, Port, Target; printed "target:port prio weight"
            self._print(" ")
            if not self._ttest(cp, 6):
                return None
            if self._fqdn(cp + 6) is None:
                return None
            self._print(f":{self._u2(cp + 4)} {self._u2(cp)} {self._u2(cp + 2)}")
        elif typ == _T_AAAA:
            if not self._ttest(cp, 16):
                return None
            self._print(" " + _ip6(self.msg[cp : cp + 16]))
        elif typ == _T_A6:
            return self._a6(cp, rp)
        elif typ == _T_URI:
            # RFC 7553: Priority, Weight, Target
            if not self._ttest(cp, length):
                return None
            self._print(f" {self._u2(cp)} {self._u2(cp + 2)} ")
            if self._printn(cp + 4, (length - 4) & 0xFFFFFFFF):
                return None
        elif typ == _T_OPT:
            self._print(f" UDPsize={rclass}")
            if opt_flags & 0x8000:
                self._print(" DO")  # RFC 3225: the DNSSEC OK bit
            if cp < rp:
                self._print(" [")
                while cp < rp:
                    nxt = self._eopt(cp)
                    if nxt is None:
                        return None
                    cp = nxt
                    if cp < rp:
                        self._print(",")
                self._print("]")
        elif typ == _T_UNSPECA:  # "One long string"
            if not self._ttest(cp, length):
                return None
            if self._printn(cp, length):
                return None
        elif typ == _T_TSIG:
            return self._tsig(cp, rp, length)
        return rp  # "XXX This isn't always right"

    def _a6(self, cp: int, rp: int) -> int | None:
        """RFC 2874's A6: prefix length, address suffix, prefix name."""
        pbit = self._u1(cp)
        pbyte = (pbit & ~7) // 8
        if pbit > 128:
            self._print(f" {pbit}(bad plen)")
            return rp
        if pbit < 128:
            n = 16 - pbyte
            if not self._ttest(cp + 1, n):
                raise _Truncated  # GET_CPY_BYTES()
            addr = bytes(pbyte) + self.msg[cp + 1 : cp + 1 + n]
            self._print(f" {pbit} {_ip6(addr)}")
        if pbit > 0:
            self._print(" ")
            if self._fqdn(cp + 1 + 16 - pbyte) is None:
                return None
        return rp

    def _tsig(self, cp: int, rp: int, length: int) -> int | None:
        """RFC 8945's TSIG: algorithm name, time, fudge, MAC, original id, error, other."""
        if cp + length > self.end:
            return None
        if not self.vflag:
            return rp
        self._print(" ")
        name = self._fqdn(cp)
        if name is None:
            return None
        cp = name + 6
        for word in ("fudge", "maclen", "origid", "error", "otherlen"):
            if not self._ttest(cp, 2):
                return None
            value = self._u2(cp)
            self._print(f" {word}={value}")
            cp += 2 + (value if word == "maclen" else 0)
        return rp

    def _eopt(self, cp: int) -> int | None:
        """eopt_print(): "print an <EDNS-option>" (RFC 6891, 6.1.2: OPTION-CODE,
        OPTION-LENGTH, OPTION-DATA)."""
        if not self._ttest(cp, 2):
            return None
        opt = self._u2(cp)
        cp += 2
        self._print(_EDNS_OPTIONS.get(opt) or f"Opt{opt}")
        if not self._ttest(cp, 2):
            return None
        n = self._u2(cp)
        cp += 2
        if not self._ttest(cp, n):
            return None
        if n > 0:
            data = self.msg[cp : cp + n]
            self._print(" ")
            self._print(self._eopt_data(opt, data, cp))
        return cp + n

    def _eopt_data(self, opt: int, data: bytes, cp: int) -> str:
        n = len(data)
        invalid = " (invalid)"  # nd_print_invalid()
        if opt == _E_ECS:
            return self._ecs(data)
        if opt == _E_COOKIE:
            # RFC 7873, 4: an 8-byte client cookie and an 8 to 32-byte server cookie
            if n < 8 or 8 < n < 16 or n > 40:
                return invalid
            return data[:8].hex() + (" " + data[8:].hex() if n > 8 else "")
        if opt == _E_KEEPALIVE:  # RFC 7828: "in units of 100 milliseconds"
            if n != 2:
                return invalid
            return f"{struct.unpack('!H', data)[0] / 10.0:0.1f} sec"
        if opt == _E_EXPIRE:  # RFC 7314
            return invalid if n != 4 else f"{struct.unpack('!I', data)[0]} sec"
        if opt == _E_PADDING:  # RFC 7830: "ignore contents and just print length"
            return f"({n})"
        if opt == _E_KEYTAG:  # RFC 8145
            if n % 2:
                return invalid
            return " ".join(str(v) for v in struct.unpack(f"!{n // 2}H", data))
        if opt in (_E_DAU, _E_DHU, _E_N3U):  # RFC 6975
            table = {_E_DAU: _DAU, _E_DHU: _DHU, _E_N3U: _N3U}[opt]
            return " ".join(table.get(a) or f"Alg_{a}" for a in data)
        if opt == _E_CHAIN:  # RFC 7901: a closest trust point, as a name
            name = self._name(cp, cp + n)
            return name.printed
        return data.hex()  # NSID (RFC 5001) and the others: the bytes in hex

    @staticmethod
    def _ecs(data: bytes) -> str:
        """print_eopt_ecs(): RFC 7871's FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH,
        ADDRESS, as "address/source/scope"."""
        invalid = " (invalid)"
        n = len(data)
        if n < 4:
            return invalid
        family, src_len, scope_len = struct.unpack_from("!HBB", data)
        bits = {1: 32, 2: 128}.get(family)
        if bits is None or n - 4 > bits // 8:
            return invalid
        if src_len > bits or scope_len > bits or (src_len + 7) // 8 != n - 4:
            return invalid
        padded = data[4:] + bytes(16 - (n - 4))
        addr = _ip4(padded[:4]) if family == 1 else _ip6(padded)
        return f"{addr}/{src_len}/{scope_len}"

    # ------------------------------------------------------------------ the message
    def extended_rcode(self, rcode: int, counts: tuple[int, int, int, int]) -> int:
        """domain_print()'s first pass: "find the opt record to extract extended rcode"."""
        qd, an, ns, ar = counts
        cp: int | None = _HEADER_SIZE
        try:
            for _ in range(qd):
                cp = self.skip_name(cp) if cp is not None else None
                if cp is None:
                    return rcode
                cp += 4  # "skip QTYPE and QCLASS"
                if cp >= self.end:
                    return rcode
            for _ in range(an + ns):
                cp = self.skip_name(cp) if cp is not None else None
                if cp is None:
                    return rcode
                cp += 8  # "skip TYPE, CLASS and TTL"
                if cp + 2 > self.end:
                    return rcode
                cp += 2 + self._u2(cp)
                if cp >= self.end:
                    return rcode
            for _ in range(ar):
                cp = self.skip_name(cp) if cp is not None else None
                if cp is None or cp + 2 > self.end:
                    return rcode
                typ = self._u2(cp)
                cp += 4  # "skip TYPE and CLASS"
                if cp + 1 > self.end:
                    return rcode
                if typ == _T_OPT:
                    # RFC 6891, 6.1.3: "EXTENDED-RCODE Forms the upper 8 bits of extended
                    # 12-bit RCODE"
                    return rcode | self._u1(cp) << 4
                cp += 4
                if cp + 2 > self.end:
                    return rcode
                cp += 2 + self._u2(cp)
                if cp >= self.end:
                    return rcode
        except _Truncated:
            pass
        return rcode

    def sections(self, cp: int | None, counts: tuple[int, int, int], answers: bool) -> bool:
        """The answer, authority and additional sections as domain_print() prints them
        (the last two only with ``-vv``); False at its "goto trunc". Where the answer
        section's text ends in the output is kept in ``answers_end``."""
        an, ns, ar = counts
        if answers or self.vflag > 1:
            if an:
                cp, an = self._records(cp, an)
                if cp is None:
                    return False
            if an:
                return False
        self.answers_end = len(self.out)
        if self.vflag > 1:
            for count, word in ((ns, " ns:"), (ar, " ar:")):
                if cp is not None and cp < self.end and count:
                    self._print(word)
                    cp, count = self._records(cp, count)
                    if cp is None:
                        return False
                if count:
                    return False
        return True

    def _records(self, cp: int | None, count: int) -> tuple[int | None, int]:
        """``count`` (at least one) records from ``cp``, comma-separated, while the message
        lasts: where they end (None at a "goto trunc") and how many were not reached."""
        cp = self._rprint(cp) if cp is not None else None
        count -= 1
        while cp is not None and cp < self.end and count:
            self._print(",")
            cp = self._rprint(cp)
            count -= 1
        return cp, count

    def message(
        self,
        ident: int,
        flags: int,
        opcode: int,
        rcode: int,
        chars: str,
        counts: tuple[int, int, int, int],
        wire: int,
    ) -> str | None:
        """domain_print() after its first pass: the message's text into ``out``; returns
        the text of the answer section (None for a query, or when it is not reached)."""
        qd, an, ns, ar = counts
        cp: int | None = _HEADER_SIZE
        answers: str | None = None
        try:
            if flags & 0x8000:
                # "this is a response": id, opcode, rcode, then the flags
                self._print(f"{ident}{_OPCODES[opcode]}{_rcode_word(rcode)}{chars}")
                if qd != 1:
                    self._print(f" [{qd}q]")
                # "Print QUESTION section on -vv"
                for i in range(qd):
                    if i:
                        self._print(",")
                    if self.vflag > 1:
                        self._print(" q:")
                        cp = self._qprint(cp) if cp is not None else None
                        if cp is None:
                            raise _Truncated
                    else:
                        cp = self.skip_name(cp) if cp is not None else None
                        if cp is None:
                            raise _Truncated
                        cp += 4  # "skip QTYPE and QCLASS"
                self._print(f" {an}/{ns}/{ar}")
                mark = len(self.out)
                try:
                    done = self.sections(cp, (an, ns, ar), answers=True)
                finally:
                    answers = "".join(self.out[mark : self.answers_end])
                if not done:
                    raise _Truncated
            else:
                # "this is a request": id, opcode, then RD and CD
                self._print(f"{ident}{_OPCODES[opcode]}{chars}")
                b2 = flags
                if b2 & 0x6CF:  # "any weirdness?": AA, TC, RA, Z or RCODE set in a query
                    self._print(f" [b2&3=0x{b2:x}]")
                if opcode == _IQUERY:
                    if qd:
                        self._print(f" [{qd}q]")
                    if an != 1:
                        self._print(f" [{an}a]")
                else:
                    if an:
                        self._print(f" [{an}a]")
                    if qd != 1:
                        self._print(f" [{qd}q]")
                if ns:
                    self._print(f" [{ns}n]")
                if ar:
                    self._print(f" [{ar}au]")
                if qd:
                    cp = self._qprint(_HEADER_SIZE)
                    if cp is None:
                        raise _Truncated
                    qd -= 1
                    while cp < self.end and qd:
                        cp = self._qprint(cp)
                        if cp is None:
                            raise _Truncated
                        qd -= 1
                if qd:
                    raise _Truncated
                # "Print remaining sections on -vv"
                if self.vflag > 1 and not self.sections(cp, (an, ns, ar), answers=False):
                    raise _Truncated
            self._print(f" ({wire})")
        except _Truncated:
            self._print(" [|domain]")  # nd_print_trunc()
        return answers


#: the ``error`` of a DNS-over-TCP segment whose length prefix is not its payload's length
#: (a message that continues in the next segments, or more than one message);
#: :data:`PREFIX_RE` reads it back
PREFIX_NOTE: Final = "the length prefix says {prefix} bytes, the segment holds {wire}"
PREFIX_RE: Final = re.compile(r"the length prefix says (\d+) bytes, the segment holds (\d+)")


def decode_dns(
    msg: bytes | bytearray | memoryview,
    *,
    tcp: bool = False,
    length: int | None = None,
    verbose: int = 0,
    mdns: bool = False,
) -> Dns | None:
    """Decode a DNS message into the values tcpdump's line for it gives the text reader.

    Parameters
    ----------
    msg : bytes, bytearray or memoryview
        The message: a UDP payload, or with ``tcp`` a TCP segment's payload beginning with
        the two-byte length prefix (RFC 1035, 4.2.2). It holds the bytes tcpdump can read:
        those captured, to the end of the IP datagram.
    tcp : bool
        The message came over TCP: tcpdump checks its prefix against the segment's length
        and prints the message after a blank.
    length : int, optional
        The message's length as tcpdump reckons it, when it differs from ``len(msg)``: for
        UDP the smaller of the UDP length and the IP payload length, less the 8 bytes of
        the UDP header; for TCP the segment's payload length. Larger when the capture was
        cut short (its snapshot length); tcpdump prints it as " (N)".
    verbose : int
        The number of ``-v`` the text is printed for: 1 adds each record's owner name and
        SOA's and TSIG's fields, 2 the question of a response and the authority and
        additional sections (``ns:``, ``ar:``), 3 each record's TTL. Only :attr:`Dns.text`
        and :attr:`Dns.answers` change with it.
    mdns : bool
        The message is Multicast DNS (UDP port 5353, RFC 6762): tcpdump reads the top bit
        of a class as QU or cache-flush.

    Returns
    -------
    Dns or None
        None when ``msg`` is shorter than a DNS header (12 bytes, after the prefix with
        ``tcp``); tcpdump then prints ``domain [length N < 12] (invalid)``, or for TCP
        ``[DNS over TCP: length N < 2] (invalid)``.

    Examples
    --------
    >>> q = bytes.fromhex("890c01000001000000000000")
    >>> q += b"\\x07example\\x03com\\x00" + bytes.fromhex("00010001")
    >>> d = decode_dns(q)
    >>> d.text, d.qname, d.qtype, d.flags
    ('35084+ A? example.com. (29)', 'example.com', 'A', '+')
    >>> decode_dns(len(q).to_bytes(2, "big") + q, tcp=True).text
    '35084+ A? example.com. (29)'
    """
    raw = bytes(msg)
    wire = len(raw) if length is None else length
    prefix_note: str | None = None
    prefix_text: str | None = None
    if tcp:
        if len(raw) < 2 + _HEADER_SIZE:
            return None
        # RFC 1035, 4.2.2: "The message is prefixed with a two byte length field which
        # gives the message length, excluding the two byte length field."
        prefix = int(raw[0]) << 8 | raw[1]
        wire -= 2
        raw = raw[2:]
        if prefix != wire:
            prefix_text = f"[prefix length({prefix}) != length({wire})] (invalid)"
            # tcpdump prints no more of it; the message is read from the bytes there are,
            # and whether they begin a message at all is told by the segment's place in
            # its connection (incidentkit.parse._tcpdns)
            prefix_note = PREFIX_NOTE.format(prefix=prefix, wire=wire)
    if len(raw) < _HEADER_SIZE or wire < _HEADER_SIZE:
        return None  # domain_print(): "if(length < sizeof(*np))" ... nd_print_invalid()
    ident, flags, qd, an, ns, ar = struct.unpack_from("!6H", raw)
    # RFC 1035, 4.1.1: QR, Opcode, AA, TC, RD, RA, Z, (RFC 4035: AD, CD), RCODE
    is_response = bool(flags & 0x8000)
    opcode = (flags >> 11) & 0xF
    if is_response:
        chars = (
            ("*" if flags & 0x0400 else "")  # AA "Authoritative Answer"
            + ("" if flags & 0x0080 else "-")  # RA "Recursion Available", when not set
            + ("|" if flags & 0x0200 else "")  # TC "TrunCation"
            + ("$" if flags & 0x0020 else "")  # AD "authentic data"
        )
    else:
        chars = ("+" if flags & 0x0100 else "") + ("%" if flags & 0x0010 else "")  # RD, CD

    p = _Printer(raw, verbose, mdns)
    rcode = p.extended_rcode(flags & 0xF, (qd, an, ns, ar))
    answers = p.message(ident, flags, opcode, rcode, chars, (qd, an, ns, ar), wire)
    text = "".join(p.out)
    if prefix_text is not None:
        text = prefix_text

    qtype, qname, error = _read(raw, (qd, an, ns, ar))
    if qtype is None and qd:
        # a question whose name the decoder rejects has the type tcpdump prints after
        # skipping the name as it does (ns_nskip())
        after = p.skip_name(_HEADER_SIZE)
        if after is not None and after + 4 <= len(raw):
            qtype = _type_name(int(raw[after]) << 8 | raw[after + 1])
    error = prefix_note or error or p.reason
    return Dns(
        id=ident,
        qr="response" if is_response else "query",
        flags=chars,
        qtype=qtype,
        qname=qname,
        rcode=_rcode_name(rcode) if is_response else None,
        ancount=an if is_response else None,
        answers=(answers.strip() or None) if is_response and answers is not None else None,
        text=text,
        error=error,
    )


def _rcode_name(rcode: int) -> str:
    """The text reader's name for an RCODE ("NoError" where tcpdump prints nothing)."""
    return _rcode_word(rcode).strip() or "NoError"


# --------------------------------------------------------------------------- the decoder's reading
_SECTIONS: Final = ("question", "answer", "authority record", "additional record")
#: where a record's data holds names (RFC 1035, 3.3; RFC 2782 SRV; RFC 6672 DNAME): the
#: offset of the first, and how many follow one another
_RDATA_NAMES: Final[dict[int, tuple[int, int]]] = {
    _T_NS: (0, 1),
    _T_CNAME: (0, 1),
    _T_PTR: (0, 1),
    _T_DNAME: (0, 1),
    _T_SOA: (0, 2),
    _T_MX: (2, 1),
    _T_SRV: (6, 1),
}
#: the size of a record's data where RFC 1035, 3.4.1 (A) and RFC 3596, 2.2 (AAAA) fix it
_RDATA_SIZE: Final[dict[int, int]] = {_T_A: 4, _T_AAAA: 16}


def _read_name(
    msg: bytes, pos: int, kept: dict[int, tuple[tuple[str, ...], int, int]]
) -> tuple[int, str | None, str | None]:
    """Read the name at ``pos`` (RFC 1035, 3.1 "a sequence of labels ... terminates with
    the zero length octet for the null label of the root" and 4.1.4 "Message
    compression").

    ``kept`` holds, by the offset a pointer points to, the labels read from there to the
    root, their octets and the pointers followed, so that each is read once.

    Returns
    -------
    (int, str or None, str or None)
        The offset after the name where it is stored (-1 when the message ends inside
        it), the name as tcpdump prints it ("." for the root; None when it could not be
        read), and why it could not be read (None when the message ends inside it).
    """
    end = len(msg)
    labels: list[str] = []
    octets = 1  # the root's zero octet
    after = -1
    limit = pos  # a pointer must point before this: the name's start, then its last target
    seen: list[tuple[int, int]] = []  # the stretches of the message read for this name
    targets: list[tuple[int, int, int, int]] = []  # (target, labels, octets, jumps) then
    start = pos
    jumps = 0
    while True:
        if pos >= end:
            return -1, None, None
        c = msg[pos]
        kind = c & _TYPE_MASK
        if kind == _TYPE_INDIR:
            # "The pointer takes the form of a two octet sequence ... The OFFSET field
            # specifies an offset from the start of the message"
            if pos + 1 >= end:
                return -1, None, None
            target = (c & 0x3F) << 8 | msg[pos + 1]
            if after < 0:
                after = pos + 2
            seen.append((start, pos + 2))
            if target >= end:
                return after, None, "a compression pointer points past the message"
            if target >= limit:
                if any(s <= target < e for s, e in seen):
                    return after, None, "a compression pointer loops"
                return after, None, "a compression pointer points forward"
            jumps += 1
            if jumps > MAX_POINTERS:
                return after, None, _TOO_MANY_POINTERS
            suffix = kept.get(target)
            if suffix is not None:
                more, more_octets, more_jumps = suffix
                if octets + more_octets <= _MAXCDNAME and jumps + more_jumps <= MAX_POINTERS:
                    labels.extend(more)
                    octets += more_octets
                    jumps += more_jumps
                    break
            targets.append((target, len(labels), octets, jumps))
            limit = start = pos = target
            continue
        if kind != 0:
            # "The 10 and 01 combinations are reserved for future use."
            bits = "01" if kind == _TYPE_EDNS0 else "10"
            why = f"a label's length byte 0x{c:02x} has the reserved top bits {bits}"
            return after, None, why
        if c == 0:
            if after < 0:
                after = pos + 1
            break
        if pos + 1 + c > end:
            return -1, None, None
        # 2.3.4: "labels 63 octets or less" holds by the two top bits; "names 255 octets
        # or less"
        octets += c + 1
        if octets > _MAXCDNAME:
            return after, None, "a name is longer than 255 bytes"
        labels.append(_printable(msg[pos + 1 : pos + 1 + c]))
        pos += 1 + c
    for target, count, before, followed in targets:
        kept[target] = (tuple(labels[count:]), octets - before, jumps - followed)
    # tcpdump prints the root as "." only where a name is no more than the root: a
    # pointer to it prints as nothing
    return after, (".".join(labels) + "." if labels else "." if jumps == 0 else ""), None


def _read(
    msg: bytes, counts: tuple[int, int, int, int]
) -> tuple[str | None, str | None, str | None]:
    """Read every section of the message (RFC 1035, 4.1), each bound checked.

    Returns
    -------
    (str or None, str or None, str or None)
        The first question's type and name (see :class:`Dns`), and why the message could
        not be read to its end.
    """
    end = len(msg)
    pos = _HEADER_SIZE
    qtype: str | None = None
    qname: str | None = None
    kept: dict[int, tuple[tuple[str, ...], int, int]] = {}
    for section, count in enumerate(counts):
        word = _SECTIONS[section]
        # a count is what the header claims: each record takes bytes, so the loop ends
        # with the message, whatever the count
        for k in range(count):
            where = f"the {word}" if count == 1 else f"{word} {k + 1} of {count}"
            after, name, why = _read_name(msg, pos, kept)
            if after < 0 and why is None:
                return qtype, qname, f"the message ends inside {where}"
            # 4.1.2: QTYPE, QCLASS; 4.1.3: TYPE, CLASS, TTL, RDLENGTH
            fixed = 4 if section == 0 else 10
            if after >= 0 and after + fixed <= end and section == 0 and k == 0:
                qtype = _type_name(int(msg[after]) << 8 | msg[after + 1])
                if name:
                    qname = name[:-1] if len(name) > 1 else name
            if why is not None:
                return qtype, qname, f"{why} ({where})"
            if after + fixed > end:
                return qtype, qname, f"the message ends inside {where}"
            pos = after + fixed
            if not section:
                continue
            rtype = int(msg[after]) << 8 | msg[after + 1]
            rdlength = int(msg[after + 8]) << 8 | msg[after + 9]
            if pos + rdlength > end:
                return qtype, qname, f"the message ends inside {where}"
            why = _check_rdata(msg, rtype, pos, rdlength, kept)
            if why is not None:
                return qtype, qname, f"{why} ({where})"
            pos += rdlength
    return qtype, qname, None


def _check_rdata(
    msg: bytes,
    rtype: int,
    pos: int,
    rdlength: int,
    kept: dict[int, tuple[tuple[str, ...], int, int]],
) -> str | None:
    """Why a record's data does not hold what its type says, or None."""
    size = _RDATA_SIZE.get(rtype)
    if size is not None and rdlength != size:
        return f"{_type_name(rtype)} data of {rdlength} bytes, not {size}"
    if rtype not in _RDATA_NAMES:
        return None
    offset, count = _RDATA_NAMES[rtype]
    stop = pos + rdlength
    at = pos + offset
    for _ in range(count):
        if at >= stop:
            return f"{_type_name(rtype)} data of {rdlength} bytes ends before its name"
        after, _name, why = _read_name(msg, at, kept)
        if why is not None:
            return why
        if after < 0 or after > stop:
            return f"a name runs past its {_type_name(rtype)} record's data"
        at = after
    return None
