/*
 * The capture reader's compiled path: the packets of a capture into the schema's columns.
 *
 * decode(data, offset, caplen, linktype, time_ns, fixed) reads each packet where the
 * container reader (_pcapfile.py) found it and writes its columns, in one pass and without
 * the GIL: the text columns into buffers of its own, the others into the caller's arrays
 * (`fixed`), so that threads decoding parts of a capture write one frame's columns.
 * It decodes the packets that make up nearly every capture of a DNS incident: Ethernet
 * (with VLAN tags), Linux cooked v1 and v2, raw IP and BSD loopback; IPv4 and IPv6 without
 * extension headers; UDP, with DNS on port 53 (a query, or a response whose answers are A,
 * AAAA or CNAME records); TCP; ICMP echo, unreachable and time exceeded. Any packet outside
 * that, or not whole, is left to the pure-Python decoder (_packets.py), which reads every
 * packet: `done[i]` is 0 for those, and their columns here are empty. Both paths write the
 * same values and the same text; the tests hold them to identical frames.
 *
 * The bytes are untrusted. Every read is checked against the packet's captured length
 * (need()), names are read with tcpdump's own bounds (pointers only backwards, at most
 * MAX_POINTERS of them, MAX_LABELS labels, 255 characters), and each packet's work is
 * bounded by its length and those limits, so the pass is linear in the file.
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* mremap */
#include <Python.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ output columns */
enum {
    N_SPORT, N_DPORT, N_LENGTH, N_TTL, N_DNS_ID, N_DNS_ANCOUNT, N_ICMP_TYPE, N_ICMP_CODE,
    N_ORIG_SPORT, N_ORIG_DPORT, N_ORIG_DNS_ID, N_TCP_ACK, N_TCP_WIN, N_COUNT
};
/* bytes per value of each column (the schema's UInt8, UInt16, UInt32) */
static const int NUM_WIDTH[N_COUNT] = {2, 2, 4, 1, 2, 2, 1, 1, 2, 2, 2, 4, 4};
static const char *const NUM_NAMES[N_COUNT] = {
    "sport", "dport", "length", "ttl", "dns_id", "dns_ancount", "icmp_type", "icmp_code",
    "icmp_orig_sport", "icmp_orig_dport", "icmp_orig_dns_id", "tcp_ack", "tcp_win"};

enum {
    S_SRC, S_DST, S_LINK_SRC, S_LINK_DST, S_DNS_FLAGS, S_DNS_QTYPE, S_DNS_QNAME, S_DNS_RCODE,
    S_DNS_ANSWERS, S_ICMP_REASON, S_ORIG_PROTO, S_ORIG_SRC, S_ORIG_DST, S_TCP_FLAGS,
    S_TCP_SEQ, S_INFO, S_RAW, S_COUNT
};
static const char *const STR_NAMES[S_COUNT] = {
    "src", "dst", "link_src", "link_dst", "dns_flags", "dns_qtype", "dns_qname", "dns_rcode",
    "dns_answers", "icmp_reason", "icmp_orig_proto", "icmp_orig_src", "icmp_orig_dst",
    "tcp_flags", "tcp_seq", "info", "raw"};

/* the schema's proto categories (schema.PROTOCOLS), as codes */
enum { P_UDP = 0, P_TCP = 1, P_ICMP = 4, P_ARP = 6 };
static const char *const PROTO_NAMES[] = {"udp", "tcp", "sctp", "dccp", "icmp", "icmp6",
                                          "arp", "ip", "ip6", "other", "unparsed"};

/*
 * A growing byte buffer, always zeroed past what was written (a column's unwritten rows
 * are empty). From MAP_MIN bytes on it is pages mapped for it alone: pages no row writes
 * take no memory, and they go back to the system when the column is freed. Smaller ones
 * are calloc's, so a capture of a few packets maps nothing. (Not huge pages: where the
 * system compacts memory for them on demand, the first large read stalled for seconds.)
 */
typedef struct {
    char *p;
    Py_ssize_t len, cap;
    int mapped;
} Buf;

#define MAP_MIN ((Py_ssize_t)1 << 18)

/* The most a column reserves before its rows need it; it grows (mremap) from there. Pages
 * written in a mapping much larger than what is written fault several times slower here
 * (measured: 5 columns of 24 MB each took 3 times as long in mappings of 512 MB as in
 * mappings grown from 1 MB), so a generous first guess costs more than growing. */
#define GUESS_MAX ((Py_ssize_t)16 << 20)

static char *pages(Py_ssize_t n) {
    void *p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void release(char *p, Py_ssize_t cap, int mapped) {
    if (!p) return;
    if (mapped) munmap(p, (size_t)cap);
    else free(p);
}

static void buf_free(Buf *b) {
    release(b->p, b->cap, b->mapped);
    b->p = NULL;
    b->len = b->cap = 0;
    b->mapped = 0;
}

static int buf_reserve(Buf *b, Py_ssize_t more) {
    if (b->len + more <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more) cap *= 2;
    char *p;
    if (b->mapped) {
        p = mremap(b->p, (size_t)b->cap, (size_t)cap, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) return -1;
    } else if (cap >= MAP_MIN) {
        if (!(p = pages(cap))) return -1;
        if (b->p) memcpy(p, b->p, (size_t)b->cap);
        free(b->p);
        b->mapped = 1;
    } else {
        if (!(p = realloc(b->p, (size_t)cap))) return -1;
        memset(p + b->cap, 0, (size_t)(cap - b->cap));
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

/* buf_reserve's quick path: 0 when `more` bytes fit already */
static inline int room(Buf *b, Py_ssize_t more) {
    return b->len + more <= b->cap ? 0 : buf_reserve(b, more);
}

/* one packet's values while it is read; copied to the columns when it is done */
#define TEXT_MAX 2048
typedef struct {
    uint32_t has;
    uint64_t num[N_COUNT];
    const char *str[S_COUNT]; /* into text or names, NULL when empty */
    int len[S_COUNT];
    char text[TEXT_MAX]; /* what tcpdump -nn prints after the time */
    int text_len;
    int info_at;         /* where "src > dst: " ends in text */
    char scratch[1024];  /* addresses, flags, names: short strings the columns point to */
    int scratch_len;
    int proto;
    int qr; /* -1 none, 0 query, 1 response */
    int fail;
} Pkt;

static void num(Pkt *k, int c, uint64_t v) {
    k->has |= 1u << c;
    k->num[c] = v;
}

/* a copy of s[0:n] in the scratch space (NUL-terminated, for "%s"), as column c; 0 when
 * it does not fit */
static int str(Pkt *k, int c, const char *s, int n) {
    if (k->scratch_len + n + 1 > (int)sizeof(k->scratch)) return k->fail = 1, 0;
    memcpy(k->scratch + k->scratch_len, s, (size_t)n);
    k->scratch[k->scratch_len + n] = 0;
    k->str[c] = k->scratch + k->scratch_len;
    k->len[c] = n;
    k->scratch_len += n + 1;
    return 1;
}

static void put(Pkt *k, const char *s, int n) {
    if (k->text_len + n > TEXT_MAX) {
        k->fail = 1;
        return;
    }
    memcpy(k->text + k->text_len, s, (size_t)n);
    k->text_len += n;
}

static void puts_(Pkt *k, const char *s) { put(k, s, (int)strlen(s)); }

/* the decimal digits of v at out; their count (printf is too slow for a million packets):
 * the count first, then two digits at a time from the end */
static int utoa(char *out, uint64_t v) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    int n = 1;
    for (uint64_t t = 10; n < 20 && v >= t; t *= 10) n++;
    int at = n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        at -= 2;
        out[at] = pairs[2 * r];
        out[at + 1] = pairs[2 * r + 1];
    }
    if (v >= 10) {
        out[at - 2] = pairs[2 * v];
        out[at - 1] = pairs[2 * v + 1];
    } else {
        out[at - 1] = (char)('0' + v);
    }
    return n;
}

static void putu(Pkt *k, uint64_t v) {
    char tmp[24];
    put(k, tmp, utoa(tmp, v));
}

static void putf(Pkt *k, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(tmp)) {
        k->fail = 1;
        return;
    }
    put(k, tmp, n);
}

/* ------------------------------------------------------------------ reading bytes */
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int fmt_mac(char *out, const uint8_t *p) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        out[i * 3] = hex[p[i] >> 4];
        out[i * 3 + 1] = hex[p[i] & 15];
        if (i < 5) out[i * 3 + 2] = ':';
    }
    return 17;
}

/* each byte's decimal text, NUL-padded to 4 bytes, and its length; made by PyInit */
static char OCTETS[256][4];
static uint8_t OCTET_LEN[256];

static void make_octets(void) {
    for (int v = 0; v < 256; v++) {
        char *o = OCTETS[v];
        int n = 0;
        if (v >= 100) o[n++] = (char)('0' + v / 100);
        if (v >= 10) o[n++] = (char)('0' + v / 10 % 10);
        o[n++] = (char)('0' + v % 10);
        OCTET_LEN[v] = (uint8_t)n;
    }
}

/* the dotted quad at out, NUL-terminated (out has room for 16 bytes) */
static int fmt_ip4(char *out, const uint8_t *p) {
    int n = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(out + n, OCTETS[p[i]], 4);
        n += OCTET_LEN[p[i]];
        out[n++] = '.';
    }
    out[--n] = 0;
    return n;
}

/* RFC 5952 text of an IPv6 address (as Python's ipaddress and tcpdump write it, which
 * agree but for the IPv4-mapped and -compatible forms: -1 for those) */
static int fmt_ip6(char *out, const uint8_t *p, int tcpdump_style) {
    uint16_t w[8];
    for (int i = 0; i < 8; i++) w[i] = be16(p + 2 * i);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !w[j]) j++;
        if (j - i > best_len) best = i, best_len = j - i;
        i = j;
    }
    if (best_len < 2) best = -1;
    if (best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xFFFF))) {
        if (!tcpdump_style) return -1;
        int n = sprintf(out, best_len == 6 ? "::" : "::ffff:");
        return n + fmt_ip4(out + n, p + 12);
    }
    int n = 0;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) out[n++] = ':';
            continue;
        }
        if (i) out[n++] = ':';
        static const char hex[] = "0123456789abcdef";
        int started = 0;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int d = (w[i] >> shift) & 15;
            if (d || started || shift == 0) out[n++] = hex[d], started = 1;
        }
    }
    if (best >= 0 && best + best_len == 8) out[n++] = ':';
    out[n] = 0;
    return n;
}

/* an address as column c; returns its text, written straight into the scratch space */
static const char *addr(Pkt *k, int c, const uint8_t *p, int v6) {
    if (k->scratch_len + 64 > (int)sizeof(k->scratch)) return k->fail = 1, "";
    char *at = k->scratch + k->scratch_len; /* (at most 45 characters and a NUL) */
    int n = v6 ? fmt_ip6(at, p, 0) : fmt_ip4(at, p);
    if (n < 0) {
        k->fail = 1;
        return "";
    }
    k->str[c] = at;
    k->len[c] = n;
    k->scratch_len += n + 1;
    return at;
}

/* ------------------------------------------------------------------ DNS */
#define MAX_POINTERS 128
#define MAX_LABELS 255
#define MAXCDNAME 255

static int plain_label_byte(uint8_t c) {
    uint8_t lower = c | 0x20; /* (A-Z to a-z; nothing else lands in a-z) */
    return (lower >= 'a' && lower <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * The name at `pos` of msg[0:end] written as tcpdump prints it ("a.b."), with tcpdump's
 * and the field reader's rules: a pointer must point before the name's start, then before
 * its last target. Only names of plain labels are read here (anything else goes to the
 * Python decoder). Returns the offset after the name where it is stored, or -1.
 */
static int dns_name(const uint8_t *msg, int end, int pos, char *out, int *out_len, int cap) {
    int after = -1, limit = pos, jumps = 0, labels = 0, chars = 0, n = 0;
    for (;;) {
        if (pos >= end) return -1;
        uint8_t c = msg[pos];
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= end) return -1;
            int target = (c & 0x3F) << 8 | msg[pos + 1];
            if (after < 0) after = pos + 2;
            if (target >= limit || ++jumps > MAX_POINTERS) return -1;
            limit = pos = target;
            continue;
        }
        if (c & 0xC0) return -1;
        if (c == 0) {
            if (after < 0) after = pos + 1;
            break;
        }
        if (pos + 1 + c > end) return -1;
        chars += c + 1;
        if (chars > MAXCDNAME - 1 || ++labels > MAX_LABELS) return -1;
        if (n + c + 1 > cap) return -1;
        for (int i = 0; i < c; i++) {
            uint8_t b = msg[pos + 1 + i];
            if (!plain_label_byte(b)) return -1;
            out[n++] = (char)b;
        }
        out[n++] = '.';
        pos += 1 + c;
    }
    if (!labels) return -1; /* the root: "." or nothing, as the Python decoder says */
    *out_len = n;
    return after;
}

/* ns_nskip(): past a stored name without following its pointer; -1 when it cannot */
static int dns_skip(const uint8_t *msg, int end, int pos) {
    for (int guard = 0; guard <= MAX_LABELS + 1; guard++) {
        if (pos >= end) return -1;
        uint8_t c = msg[pos];
        if ((c & 0xC0) == 0xC0) return pos + 2 <= end ? pos + 2 : -1;
        if (c & 0xC0) return -1;
        pos += 1 + c;
        if (c == 0) return pos;
    }
    return -1;
}

static const char *type_name(int t) {
    switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 255: return "ANY";
    default: return NULL;
    }
}

static const char *const RCODE_WORDS[] = {"", " FormErr", " ServFail", " NXDomain", " NotImp",
                                          " Refused"};
static const char *const RCODE_NAMES[] = {"NoError", "FormErr", "ServFail", "NXDomain",
                                          "NotImp", "Refused"};

/* The DNS message msg[0:end] (all of the UDP payload, captured): its columns and text. */
static void dns(Pkt *k, const uint8_t *msg, int end) {
    if (end < 12) return (void)(k->fail = 1);
    int ident = be16(msg), flags = be16(msg + 2);
    int qd = be16(msg + 4), an = be16(msg + 6), ns = be16(msg + 8), ar = be16(msg + 10);
    int response = flags & 0x8000, opcode = (flags >> 11) & 0xF;
    if (opcode || qd != 1 || ns) return (void)(k->fail = 1);
    char chars[8];
    int nc = 0;
    if (response) {
        if (flags & 0x0400) chars[nc++] = '*';
        if (!(flags & 0x0080)) chars[nc++] = '-';
        if (flags & 0x0200) chars[nc++] = '|';
        if (flags & 0x0020) chars[nc++] = '$';
    } else {
        if (flags & 0x06CF || an) return (void)(k->fail = 1);
        if (flags & 0x0100) chars[nc++] = '+';
        if (flags & 0x0010) chars[nc++] = '%';
    }
    /* the question */
    char name[MAXCDNAME + 2];
    int name_len = 0;
    int pos = dns_name(msg, end, 12, name, &name_len, MAXCDNAME + 1);
    if (pos < 0 || pos + 4 > end) return (void)(k->fail = 1);
    const char *qtype = type_name(be16(msg + pos));
    if (!qtype || be16(msg + pos + 2) != 1) return (void)(k->fail = 1);
    pos += 4;
    /* the answers (of a response): A, AAAA and CNAME of class IN, each whole */
    char answers[1024];
    int al = 0;
    for (int i = 0; i < an && !k->fail; i++) {
        int at = dns_skip(msg, end, pos);
        if (at < 0 || at + 10 > end) return (void)(k->fail = 1);
        int typ = be16(msg + at), rclass = be16(msg + at + 2), rdlen = be16(msg + at + 8);
        int rd = at + 10;
        if (rclass != 1 || rd + rdlen > end) return (void)(k->fail = 1);
        /* (the name is also read as the field reader reads it, which refuses what it
         * cannot read; owner names of plain labels read the same) */
        char owner[MAXCDNAME + 2];
        int owner_len;
        if (dns_name(msg, end, pos, owner, &owner_len, MAXCDNAME + 1) < 0)
            return (void)(k->fail = 1);
        if ((int)sizeof(answers) - al < 300) return (void)(k->fail = 1);
        if (i) answers[al++] = ',';
        if (typ == 1 && rdlen == 4) {
            memcpy(answers + al, " A ", 3);
            al += 3;
            al += fmt_ip4(answers + al, msg + rd);
        } else if (typ == 28 && rdlen == 16) {
            al += sprintf(answers + al, " AAAA ");
            al += fmt_ip6(answers + al, msg + rd, 1);
        } else if (typ == 5 || (typ == 15 && rdlen >= 2)) { /* CNAME; MX: name, then preference */
            char target[MAXCDNAME + 2];
            int target_len, at_name = typ == 15 ? rd + 2 : rd;
            int stop = dns_name(msg, end, at_name, target, &target_len, MAXCDNAME + 1);
            if (stop < 0 || stop > rd + rdlen) return (void)(k->fail = 1);
            al += sprintf(answers + al, typ == 5 ? " CNAME " : " MX ");
            memcpy(answers + al, target, (size_t)target_len);
            al += target_len;
            if (typ == 15) answers[al++] = ' ', al += utoa(answers + al, be16(msg + rd));
        } else if (typ == 16 && rdlen >= 1) { /* TXT: each <character-string> quoted */
            al += sprintf(answers + al, " TXT");
            for (int at = rd; at < rd + rdlen;) {
                int len = msg[at];
                if (at + 1 + len > rd + rdlen || (int)sizeof(answers) - al < len + 8)
                    return (void)(k->fail = 1);
                answers[al++] = ' ';
                answers[al++] = '"';
                for (int j = 0; j < len; j++) {
                    uint8_t ch = msg[at + 1 + j];
                    if (ch < 0x20 || ch > 0x7E) return (void)(k->fail = 1);
                    answers[al++] = (char)ch;
                }
                answers[al++] = '"';
                at += 1 + len;
            }
        } else {
            return (void)(k->fail = 1);
        }
        pos = rd + rdlen;
    }
    /* the additional section: at most an EDNS OPT record of the root (RFC 6891) */
    int rcode = flags & 0xF;
    if (ar > 1) return (void)(k->fail = 1);
    if (ar) {
        if (pos + 11 > end || msg[pos] != 0 || be16(msg + pos + 1) != 41)
            return (void)(k->fail = 1);
        int rdlen = be16(msg + pos + 9);
        if (pos + 11 + rdlen > end) return (void)(k->fail = 1);
        rcode |= msg[pos + 5] << 4; /* EXTENDED-RCODE */
    }
    if (rcode > 5) return (void)(k->fail = 1);
    num(k, N_DNS_ID, (uint64_t)ident);
    k->qr = response ? 1 : 0;
    if (nc) str(k, S_DNS_FLAGS, chars, nc);
    str(k, S_DNS_QTYPE, qtype, (int)strlen(qtype));
    str(k, S_DNS_QNAME, name, name_len - 1);
    if (response) {
        str(k, S_DNS_RCODE, RCODE_NAMES[rcode], (int)strlen(RCODE_NAMES[rcode]));
        num(k, N_DNS_ANCOUNT, (uint64_t)an);
        if (al) str(k, S_DNS_ANSWERS, answers + 1, al - 1);
        putu(k, (uint64_t)ident);
        puts_(k, RCODE_WORDS[rcode]);
        put(k, chars, nc);
        put(k, " ", 1);
        putu(k, (uint64_t)an);
        put(k, "/", 1);
        putu(k, (uint64_t)ns);
        put(k, "/", 1);
        putu(k, (uint64_t)ar);
        put(k, answers, al);
    } else {
        putu(k, (uint64_t)ident);
        put(k, chars, nc);
        if (ar) puts_(k, " ["), putu(k, (uint64_t)ar), puts_(k, "au]");
        put(k, " ", 1);
        puts_(k, qtype);
        puts_(k, "? ");
        put(k, name, name_len);
    }
    puts_(k, " (");
    putu(k, (uint64_t)end);
    put(k, ")", 1);
}

/* ------------------------------------------------------------------ transport */
static void head(Pkt *k, const char *family, const char *src, const char *dst, int sport,
                 int dport) {
    puts_(k, family);
    put(k, " ", 1);
    puts_(k, src);
    if (sport >= 0) put(k, ".", 1), putu(k, (uint64_t)sport);
    put(k, " > ", 3);
    puts_(k, dst);
    if (dport >= 0) put(k, ".", 1), putu(k, (uint64_t)dport);
    put(k, ": ", 2);
    k->info_at = k->text_len;
}

static void udp(Pkt *k, const uint8_t *b, int n, const char *family, const char *src,
                const char *dst, int wire) {
    if (n < 8) return (void)(k->fail = 1);
    int sport = be16(b), dport = be16(b + 2), ulen = be16(b + 4);
    if (ulen < 8) return (void)(k->fail = 1);
    int size = (ulen < wire ? ulen : wire) - 8;
    if (size < 0) size = 0;
    k->proto = P_UDP;
    num(k, N_SPORT, (uint64_t)sport);
    num(k, N_DPORT, (uint64_t)dport);
    num(k, N_LENGTH, (uint64_t)size);
    head(k, family, src, dst, sport, dport);
    if (sport == 5353 || dport == 5353) return (void)(k->fail = 1);
    if (sport == 53 || dport == 53) {
        if (n - 8 != size) return (void)(k->fail = 1); /* cut short, or padded */
        dns(k, b + 8, size);
        return;
    }
    puts_(k, "UDP, length ");
    putu(k, (uint64_t)size);
}

static void tcp(Pkt *k, const uint8_t *b, int n, const char *family, const char *src,
                const char *dst, int wire) {
    if (n < 20) return (void)(k->fail = 1);
    int sport = be16(b), dport = be16(b + 2);
    uint32_t seq = be32(b + 4), ack = be32(b + 8);
    int doff = (b[12] >> 4) * 4, bits = b[13], win = be16(b + 14);
    if (doff < 20 || n < doff) return (void)(k->fail = 1);
    int size = wire - doff > 0 ? wire - doff : 0;
    if ((sport == 53 || dport == 53 || sport == 5353 || dport == 5353) && n - doff >= 14)
        return (void)(k->fail = 1); /* DNS over TCP: the Python decoder's */
    static const struct { int bit; char ch; } FLAGS[] = {
        {0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'},
        {0x10, '.'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}};
    char fl[9];
    int nf = 0;
    for (int i = 0; i < 8; i++)
        if (bits & FLAGS[i].bit) fl[nf++] = FLAGS[i].ch;
    if (!nf) memcpy(fl, "none", 4), nf = 4;
    char seq_text[32];
    int ns = utoa(seq_text, seq);
    if (size) seq_text[ns++] = ':', ns += utoa(seq_text + ns, (uint32_t)(seq + (uint32_t)size));
    k->proto = P_TCP;
    num(k, N_SPORT, (uint64_t)sport);
    num(k, N_DPORT, (uint64_t)dport);
    num(k, N_LENGTH, (uint64_t)size);
    num(k, N_TCP_WIN, (uint64_t)win);
    str(k, S_TCP_FLAGS, fl, nf);
    str(k, S_TCP_SEQ, seq_text, ns);
    head(k, family, src, dst, sport, dport);
    puts_(k, "Flags [");
    put(k, fl, nf);
    puts_(k, "], seq ");
    put(k, seq_text, ns);
    if (bits & 0x10) {
        num(k, N_TCP_ACK, ack);
        puts_(k, ", ack ");
        putu(k, ack);
    }
    puts_(k, ", win ");
    putu(k, (uint64_t)win);
    puts_(k, ", length ");
    putu(k, (uint64_t)size);
}

static void icmp(Pkt *k, const uint8_t *b, int n, const char *src, const char *dst, int wire) {
    if (n < 8) return (void)(k->fail = 1);
    int type = b[0], code = b[1], length = wire > 0 ? wire : 0;
    const char *reason = NULL;
    k->proto = P_ICMP;
    num(k, N_LENGTH, (uint64_t)length);
    num(k, N_ICMP_TYPE, (uint64_t)type);
    num(k, N_ICMP_CODE, (uint64_t)code);
    head(k, "IP", src, dst, -1, -1);
    puts_(k, "ICMP ");
    if (type == 0 || type == 8) {
        reason = type ? "echo request" : "echo reply";
        str(k, S_ICMP_REASON, reason, (int)strlen(reason));
        puts_(k, reason);
        puts_(k, ", id ");
        putu(k, be16(b + 4));
        puts_(k, ", seq ");
        putu(k, be16(b + 6));
        puts_(k, ", length ");
        putu(k, (uint64_t)length);
        return;
    }
    static const char *const UNREACH[16] = {
        [0] = "net unreachable", [1] = "host unreachable", [2] = "protocol unreachable",
        [3] = "port unreachable", [4] = "fragmentation needed", [9] = "net admin prohibited",
        [10] = "host admin prohibited", [13] = "admin prohibited filter"};
    if (type == 3 && code < 16) reason = UNREACH[code];
    if (type == 11 && code < 2) reason = code ? "reassembly time exceeded" : "ttl exceeded in transit";
    if (!reason) return (void)(k->fail = 1);
    str(k, S_ICMP_REASON, reason, (int)strlen(reason));
    /* the datagram it quotes: an IPv4 header and the start of its transport header */
    const uint8_t *q = b + 8;
    int qn = n - 8;
    if (qn < 20 || q[0] >> 4 != 4) return (void)(k->fail = 1);
    int ihl = (q[0] & 15) * 4, proto = q[9];
    const char *pname = proto == 17 ? "udp" : proto == 6 ? "tcp" : proto == 1 ? "icmp" : NULL;
    if (!pname) return (void)(k->fail = 1);
    str(k, S_ORIG_PROTO, pname, (int)strlen(pname));
    addr(k, S_ORIG_SRC, q + 12, 0);
    const char *odst = addr(k, S_ORIG_DST, q + 16, 0);
    int l4 = ihl >= 20 ? ihl : 20, port = -1;
    if ((proto == 6 || proto == 17) && qn - l4 >= 4) {
        int osport = be16(q + l4);
        port = be16(q + l4 + 2);
        num(k, N_ORIG_SPORT, (uint64_t)osport);
        num(k, N_ORIG_DPORT, (uint64_t)port);
        if (proto == 17 && qn - l4 >= 10 &&
            (osport == 53 || port == 53 || osport == 5353 || port == 5353))
            num(k, N_ORIG_DNS_ID, be16(q + l4 + 8));
    }
    if (type == 11) {
        puts_(k, code ? "ip reassembly time exceeded" : "time exceeded in-transit");
    } else if (code == 3 && port >= 0) {
        puts_(k, odst);
        put(k, " ", 1);
        puts_(k, pname);
        puts_(k, " port ");
        putu(k, (uint64_t)port);
        puts_(k, " unreachable");
    } else {
        switch (code) {
        case 0: putf(k, "net %s unreachable", odst); break;
        case 1: putf(k, "host %s unreachable", odst); break;
        case 2: putf(k, "%s protocol %s unreachable", odst, pname); break;
        case 4: putf(k, "%s unreachable - need to frag", odst); break;
        case 9: putf(k, "net %s unreachable - admin prohibited", odst); break;
        case 10: putf(k, "host %s unreachable - admin prohibited", odst); break;
        case 13: putf(k, "host %s unreachable - admin prohibited filter", odst); break;
        default: putf(k, "%s unreachable - %s", odst, reason);
        }
    }
    puts_(k, ", length ");
    putu(k, (uint64_t)length);
}

/* ------------------------------------------------------------------ network, link */
static void ipv4(Pkt *k, const uint8_t *b, int n) {
    if (n < 20 || b[0] >> 4 != 4) return (void)(k->fail = 1);
    int ihl = (b[0] & 15) * 4, total = be16(b + 2), frag = be16(b + 6), proto = b[9];
    if (ihl < 20 || n < ihl || total < ihl || total > n || (frag & 0x1FFF))
        return (void)(k->fail = 1);
    num(k, N_TTL, b[8]);
    const char *src = addr(k, S_SRC, b + 12, 0), *dst = addr(k, S_DST, b + 16, 0);
    if (proto == 17)
        udp(k, b + ihl, total - ihl, "IP", src, dst, total - ihl);
    else if (proto == 6)
        tcp(k, b + ihl, total - ihl, "IP", src, dst, total - ihl);
    else if (proto == 1)
        icmp(k, b + ihl, total - ihl, src, dst, total - ihl);
    else
        k->fail = 1;
}

static void ipv6(Pkt *k, const uint8_t *b, int n) {
    if (n < 40 || b[0] >> 4 != 6) return (void)(k->fail = 1);
    int plen = be16(b + 4), nxt = b[6];
    if (!plen || 40 + plen > n) return (void)(k->fail = 1);
    num(k, N_TTL, b[7]);
    const char *src = addr(k, S_SRC, b + 8, 1), *dst = addr(k, S_DST, b + 24, 1);
    if (k->fail) return;
    if (nxt == 17)
        udp(k, b + 40, plen, "IP6", src, dst, plen);
    else if (nxt == 6)
        tcp(k, b + 40, plen, "IP6", src, dst, plen);
    else
        k->fail = 1; /* ICMPv6, extension headers, others: the Python decoder's */
}

/* ARP (and RARP) of IPv4 over Ethernet addresses: a request or a reply */
static void arp(Pkt *k, const uint8_t *b, int n) {
    if (n < 28 || be16(b + 2) != 0x0800 || b[4] != 6 || b[5] != 4) return (void)(k->fail = 1);
    int op = be16(b + 6);
    if (op != 1 && op != 2) return (void)(k->fail = 1);
    k->proto = P_ARP;
    num(k, N_LENGTH, (uint64_t)n);
    const char *spa = addr(k, S_SRC, b + 14, 0);
    puts_(k, "ARP, ");
    if (op == 1) {
        const char *tpa = addr(k, S_DST, b + 24, 0);
        puts_(k, "Request who-has ");
        puts_(k, tpa);
        puts_(k, " tell ");
        puts_(k, spa);
    } else {
        char mac[18];
        fmt_mac(mac, b + 8);
        puts_(k, "Reply ");
        puts_(k, spa);
        puts_(k, " is-at ");
        put(k, mac, 17);
    }
    puts_(k, ", length ");
    putu(k, (uint64_t)n);
}

static void network(Pkt *k, const uint8_t *b, int n, int ethertype) {
    if (ethertype == 0x0800)
        ipv4(k, b, n);
    else if (ethertype == 0x86DD)
        ipv6(k, b, n);
    else if (ethertype == 0x0806 || ethertype == 0x8035)
        arp(k, b, n);
    else
        k->fail = 1;
}

static void link_layer(Pkt *k, const uint8_t *b, int n, int linktype) {
    char mac[18];
    switch (linktype) {
    case 1: { /* Ethernet */
        if (n < 14) return (void)(k->fail = 1);
        str(k, S_LINK_DST, mac, fmt_mac(mac, b));
        str(k, S_LINK_SRC, mac, fmt_mac(mac, b + 6));
        int type = be16(b + 12), at = 14;
        for (int tags = 0; type == 0x8100 || type == 0x88A8 || type == 0x9100; tags++) {
            if (n < at + 4 || tags > 8) return (void)(k->fail = 1);
            type = be16(b + at + 2);
            at += 4;
        }
        if (type == 0x8864) { /* PPPoE session data (version and type 1, code 0, a session
                               * id): a PPP frame of IPv4 or IPv6; the rest the Python's */
            if (n < at + 8 || b[at] != 0x11 || b[at + 1] != 0 || !be16(b + at + 2))
                return (void)(k->fail = 1);
            int len = be16(b + at + 4), proto = be16(b + at + 6);
            if (len < 2 || len > n - at - 6 || (proto != 0x0021 && proto != 0x0057))
                return (void)(k->fail = 1);
            putf(k, "PPPoE  [ses 0x%x] ", be16(b + at + 2));
            network(k, b + at + 8, len - 2, proto == 0x0021 ? 0x0800 : 0x86DD);
            return;
        }
        network(k, b + at, n - at, type);
        return;
    }
    case 113: /* Linux cooked v1 */
        if (n < 16) return (void)(k->fail = 1);
        if (be16(b + 4) == 6) str(k, S_LINK_SRC, mac, fmt_mac(mac, b + 6));
        network(k, b + 16, n - 16, be16(b + 14));
        return;
    case 276: /* Linux cooked v2 */
        if (n < 20) return (void)(k->fail = 1);
        if (b[11] == 6) str(k, S_LINK_SRC, mac, fmt_mac(mac, b + 12));
        network(k, b + 20, n - 20, be16(b));
        return;
    case 101: case 12: case 14: case 228: case 229: /* raw IP */
        if (n < 1) return (void)(k->fail = 1);
        network(k, b, n, b[0] >> 4 == 4 ? 0x0800 : b[0] >> 4 == 6 ? 0x86DD : -1);
        return;
    case 239: { /* NFLOG: family, version 0, resource id, then TLVs to the packet's (type
                 * 9); their length and type in the logging host's byte order, told by the
                 * first, which the kernel writes as NFULA_PACKET_HDR (length 8, type 1) */
        if (n < 4 || b[1] != 0 || (b[0] != 2 && b[0] != 10)) return (void)(k->fail = 1);
        int big = n >= 8 && b[4] == 0 && b[5] == 8 && b[6] == 0 && b[7] == 1;
        for (int64_t at = 4; at + 4 <= n;) {
            int len = big ? be16(b + at) : b[at] | b[at + 1] << 8;
            int type = big ? be16(b + at + 2) : b[at + 2] | b[at + 3] << 8;
            if (len < 4) break;
            if (type == 9) {
                int64_t end = at + len < n ? at + len : n;
                network(k, b + at + 4, (int)(end - at - 4), b[0] == 2 ? 0x0800 : 0x86DD);
                return;
            }
            at += (len + 3) & ~3;
        }
        k->fail = 1; /* (no packet in it, or a TLV too short: the Python decoder's words) */
        return;
    }
    default: /* BSD loopback and every other link type: the Python decoder's */
        k->fail = 1;
    }
}

/* ------------------------------------------------------------------ the time */
/* "YYYY-MM-DD HH:MM:SS.ffffff " of UTC nanoseconds (>= 0), as tcpdump -tttt prints it */
static int fmt_time(char *out, int64_t ns) {
    int64_t secs = ns / 1000000000, us = (ns % 1000000000) / 1000;
    int64_t days = secs / 86400, rem = secs % 86400;
    /* civil from days (H. Hinnant's algorithm) */
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int64_t parts[7] = {y, m, d, rem / 3600, rem % 3600 / 60, rem % 60, us};
    static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char after[7] = {'-', '-', ' ', ':', ':', '.', ' '};
    int n = 0;
    for (int i = 0; i < 7; i++) {
        for (int w = width[i] - 1, v = (int)parts[i]; w >= 0; w--, v /= 10)
            out[n + w] = (char)('0' + v % 10);
        n += width[i];
        out[n++] = after[i];
    }
    return n;
}

/* ------------------------------------------------------------------ columns */
typedef struct {
    Buf offsets, data, valid; /* int64 offsets (n + 1); a validity bitmap (Arrow's) */
} StrCol;

/* Memory the decoder filled, handed to Python through the buffer protocol (no copy) */
typedef struct {
    PyObject_HEAD char *p;
    Py_ssize_t len, cap;
    int mapped;
} Block;

static int block_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Block *b = (Block *)self;
    return PyBuffer_FillInfo(view, self, b->p, b->len, 0, flags);
}

static void block_dealloc(PyObject *self) {
    Block *b = (Block *)self;
    release(b->p, b->cap, b->mapped);
    Py_TYPE(self)->tp_free(self);
}

static Py_ssize_t block_len(PyObject *self) { return ((Block *)self)->len; }

static PyBufferProcs block_as_buffer = {block_getbuffer, NULL};
static PySequenceMethods block_as_sequence = {.sq_length = block_len};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "incidentkit.parse._fastpcap.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = block_dealloc,
    .tp_as_buffer = &block_as_buffer,
    .tp_as_sequence = &block_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory the decoder filled, exported through the buffer protocol.",
};

/* the Block that takes over b's memory (b is left empty); NULL on failure */
static PyObject *as_bytes(Buf *b) {
    if (!b->p && buf_reserve(b, 1) < 0) return PyErr_NoMemory();
    Block *block = PyObject_New(Block, &BlockType);
    if (!block) return NULL;
    block->p = b->p;
    block->len = b->len;
    block->cap = b->cap;
    block->mapped = b->mapped;
    b->p = NULL;
    b->len = b->cap = 0;
    b->mapped = 0;
    return (PyObject *)block;
}

/* the per-row columns the caller allocates, in this order: done, proto, dns_qr, then each
 * numeric column's values and mask (pandas's: 1 where the value is missing) */
#define FIXED (3 + 2 * N_COUNT)

static void release_all(Py_buffer *views, int count) {
    for (int j = 0; j < count; j++) PyBuffer_Release(&views[j]);
}

static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer data, off, cap, lt, tm, fx[FIXED];
    PyObject *fixed;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*O!", &data, &off, &cap, &lt, &tm, &PyTuple_Type, &fixed))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = off.len / 8;
    StrCol strc[S_COUNT];
    memset(strc, 0, sizeof(strc));
    int failed = 0, views = 0;
    if (cap.len != n * 8 || lt.len != n * 4 || tm.len != n * 8) {
        PyErr_SetString(PyExc_ValueError, "decode: the per-packet arrays differ in length");
        goto out;
    }
    if (PyTuple_GET_SIZE(fixed) != FIXED) {
        PyErr_Format(PyExc_ValueError, "decode: %d output columns expected", FIXED);
        goto out;
    }
    for (; views < FIXED; views++) {
        int width = views < 3 ? 1 : (views - 3) % 2 ? 1 : NUM_WIDTH[(views - 3) / 2];
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(fixed, views), &fx[views], PyBUF_WRITABLE) < 0)
            goto out;
        if (fx[views].len < n * width) {
            views++;
            PyErr_SetString(PyExc_ValueError, "decode: an output column is too short");
            goto out;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *base = data.buf;
    const int64_t *offsets = off.buf, *caplens = cap.buf, *times = tm.buf;
    const int32_t *linktypes = lt.buf;
    char *done = fx[0].buf, *proto = fx[1].buf, *qr = fx[2].buf;
    for (int c = 0; c < S_COUNT && !failed; c++) {
        Py_ssize_t guess = c == S_RAW ? n * 128 : c == S_INFO ? n * 64 : n * 8;
        if (guess > GUESS_MAX) guess = GUESS_MAX;
        if (buf_reserve(&strc[c].offsets, (n + 1) * 8) < 0 ||
            buf_reserve(&strc[c].valid, n / 8 + 1) < 0 || buf_reserve(&strc[c].data, guess + 1) < 0)
            failed = 1;
    }
    Pkt *k = failed ? NULL : PyMem_RawMalloc(sizeof(Pkt));
    char stamp[64];
    int64_t stamp_second = -1;
    if (!k) failed = 1;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        k->has = 0;
        memset(k->str, 0, sizeof(k->str));
        k->text_len = k->scratch_len = k->info_at = k->fail = 0;
        k->proto = -1;
        k->qr = -1;
        int64_t o = offsets[i], c = caplens[i];
        if (o < 0 || c < 0 || c > INT32_MAX || o > data.len || c > data.len - o || times[i] < 0)
            k->fail = 1;
        else
            link_layer(k, base + o, (int)c, linktypes[i]);
        if (k->proto < 0) k->fail = 1;
        int ok = !k->fail;
        done[i] = (char)ok;
        proto[i] = (char)(ok ? k->proto : -1);
        qr[i] = (char)(ok ? k->qr : -1);
        for (uint32_t has = ok ? k->has : 0; has; has &= has - 1) { /* (the caller's are zeros) */
            int col = __builtin_ctz(has);
            char *at = (char *)fx[3 + 2 * col].buf + i * NUM_WIDTH[col];
            if (NUM_WIDTH[col] == 1) *(uint8_t *)at = (uint8_t)k->num[col];
            else if (NUM_WIDTH[col] == 2) memcpy(at, &(uint16_t){(uint16_t)k->num[col]}, 2);
            else memcpy(at, &(uint32_t){(uint32_t)k->num[col]}, 4);
            ((char *)fx[4 + 2 * col].buf)[i] = 0;
        }
        int stamp_len = 0;
        if (ok) { /* (the date and time of day are those of the packet before, mostly) */
            int64_t second = times[i] / 1000000000;
            if (second != stamp_second) stamp_second = second, fmt_time(stamp, second * 1000000000);
            int us = (int)(times[i] % 1000000000 / 1000);
            for (int w = 25; w >= 20; w--, us /= 10) stamp[w] = (char)('0' + us % 10);
            stamp_len = 27;
        }
        /* raw and info (every decoded packet has both), then the others that it has */
        StrCol *raw = &strc[S_RAW], *info = &strc[S_INFO];
        int info_len = k->text_len - k->info_at;
        if (ok && (room(&raw->data, stamp_len + k->text_len) < 0 || room(&info->data, info_len) < 0)) {
            failed = 1;
            break;
        }
        for (int col = 0; col < S_COUNT; col++) {
            StrCol *s = &strc[col]; /* (a packet not decoded here is an empty row) */
            int has = ok && (col == S_RAW || col == S_INFO || k->str[col]);
            if (has && col == S_RAW) {
                memcpy(s->data.p + s->data.len, stamp, (size_t)stamp_len);
                memcpy(s->data.p + s->data.len + stamp_len, k->text, (size_t)k->text_len);
                s->data.len += stamp_len + k->text_len;
            } else if (has && col == S_INFO) {
                memcpy(s->data.p + s->data.len, k->text + k->info_at, (size_t)info_len);
                s->data.len += info_len;
            } else if (has) {
                int len = k->len[col];
                if (room(&s->data, len) < 0) {
                    failed = 1;
                    break;
                }
                memcpy(s->data.p + s->data.len, k->str[col], (size_t)len);
                s->data.len += len;
            }
            if (has) s->valid.p[i >> 3] |= (char)(1 << (i & 7));
            ((int64_t *)s->offsets.p)[i + 1] = s->data.len;
        }
    }
    PyMem_RawFree(k);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto out;
    }
    for (int c = 0; c < S_COUNT; c++) strc[c].offsets.len = (n + 1) * 8, strc[c].valid.len = n / 8 + 1;
    result = PyDict_New();
    if (!result) goto out;
    for (int c = 0; c < S_COUNT; c++) {
        PyObject *a = as_bytes(&strc[c].offsets), *d = as_bytes(&strc[c].data),
                 *m = as_bytes(&strc[c].valid);
        PyObject *o = a && d && m ? PyTuple_Pack(3, a, d, m) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(d);
        Py_XDECREF(m);
        if (!o || PyDict_SetItemString(result, STR_NAMES[c], o) < 0) {
            Py_XDECREF(o);
            Py_CLEAR(result);
            goto out;
        }
        Py_DECREF(o);
    }
out:
    for (int c = 0; c < S_COUNT; c++)
        buf_free(&strc[c].offsets), buf_free(&strc[c].data), buf_free(&strc[c].valid);
    release_all(fx, views);
    PyBuffer_Release(&data);
    PyBuffer_Release(&off);
    PyBuffer_Release(&cap);
    PyBuffer_Release(&lt);
    PyBuffer_Release(&tm);
    return result;
}

/* ------------------------------------------------------------------ the container walks */
/* A walk's rows: five int64 columns (see walk and walk_epb), grown as rows come */
typedef struct {
    Buf col[5];
    Py_ssize_t count;
} Rows;

static uint32_t u32(const uint8_t *p, int big) {
    return big ? be32(p) : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
}

/* room for `rows` rows to start with (see GUESS_MAX); -1 when there is no memory */
static int rows_start(Rows *r, Py_ssize_t rows) {
    memset(r, 0, sizeof(*r));
    if (rows > GUESS_MAX / 8) rows = GUESS_MAX / 8;
    for (int c = 0; c < 5; c++)
        if (buf_reserve(&r->col[c], rows * 8) < 0) return -1;
    return 0;
}

static int rows_add(Rows *r, const int64_t row[5]) {
    for (int c = 0; c < 5; c++) { /* (cheap but when a column grows) */
        r->col[c].len = r->count * 8;
        if (room(&r->col[c], 8) < 0) return -1;
        ((int64_t *)r->col[c].p)[r->count] = row[c];
    }
    r->count++;
    return 0;
}

/* the rows as a tuple of five Blocks (which take over their memory); NULL on failure */
static PyObject *rows_tuple(Rows *r) {
    PyObject *arrays = PyTuple_New(5);
    for (int c = 0; arrays && c < 5; c++) {
        r->col[c].len = r->count * 8;
        PyObject *o = as_bytes(&r->col[c]);
        if (!o) Py_CLEAR(arrays);
        else PyTuple_SET_ITEM(arrays, c, o);
    }
    return arrays;
}

static void rows_free(Rows *r) {
    for (int c = 0; c < 5; c++) buf_free(&r->col[c]);
}

/* a walk's answer, (arrays, where it stopped, cut), and the rows freed; NULL on failure */
static PyObject *rows_result(Rows *r, int failed, Py_ssize_t pos, Py_ssize_t cut) {
    PyObject *arrays = failed ? PyErr_NoMemory() : rows_tuple(r);
    PyObject *result = arrays ? Py_BuildValue("Onn", arrays, pos, cut) : NULL;
    Py_XDECREF(arrays);
    rows_free(r);
    return result;
}

/*
 * walk(data, pos, header_len, big_endian, swapped): the pcap packet records from `pos`,
 * as _pcapfile._read_pcap's loop reads them: a tuple of five int64 arrays (data offset,
 * seconds, fraction, captured and original length), the offset where the walk stopped,
 * and the captured length of a record cut short there (-1 when none was).
 */
static PyObject *walk(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, cut = -1;
    int header_len, big, swapped, failed = 0;
    if (!PyArg_ParseTuple(args, "y*niii", &data, &pos, &header_len, &big, &swapped)) return NULL;
    if (header_len < 16 || pos < 0) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "walk: bad arguments");
        return NULL;
    }
    const uint8_t *b = data.buf;
    Py_ssize_t n = data.len;
    Rows rows;
    Py_BEGIN_ALLOW_THREADS
    failed = rows_start(&rows, (n - pos) / 64 + 1) < 0; /* (a record per 64 bytes) */
    while (!failed && pos <= n - header_len) {
        uint32_t f[4];
        for (int j = 0; j < 4; j++) f[j] = u32(b + pos + 4 * j, big);
        uint32_t incl = f[2], orig = f[3];
        if (swapped && (swapped == 1 || incl > orig)) incl = f[3], orig = f[2];
        Py_ssize_t start = pos + header_len;
        if ((Py_ssize_t)incl > n - start) {
            cut = incl;
            break;
        }
        int64_t row[5] = {start, f[0], f[1], incl, orig};
        failed = rows_add(&rows, row) < 0;
        pos = start + incl;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return rows_result(&rows, failed, pos, cut);
}

/*
 * walk_epb(data, pos, big_endian, interfaces): the run of well-formed Enhanced Packet
 * Blocks from `pos`, as _pcapfile._read_pcapng reads them: a tuple of five int64 arrays
 * (data offset, interface id, time stamp units, captured and original length) and the
 * offset of the first block it leaves to _read_pcapng: one of another type, or one with
 * anything to say (a length under 32 or not a multiple of 4, a block past the end of the
 * data, lengths at its two ends that differ, a captured length past the block, an
 * interface id of `interfaces` or more), and -1 (as walk's cut: none).
 */
static PyObject *walk_epb(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, cut = -1; /* (always: a block cut short is _read_pcapng's to say) */
    int big, failed = 0;
    long long interfaces;
    if (!PyArg_ParseTuple(args, "y*niL", &data, &pos, &big, &interfaces)) return NULL;
    if (pos < 0) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "walk_epb: bad arguments");
        return NULL;
    }
    const uint8_t *b = data.buf;
    Py_ssize_t n = data.len;
    Rows rows;
    Py_BEGIN_ALLOW_THREADS
    /* (room for a few blocks: a run may be one block, between two interface blocks) */
    failed = rows_start(&rows, 64) < 0;
    while (!failed && pos <= n - 32) {
        if (u32(b + pos, big) != 6) break;
        uint32_t length = u32(b + pos + 4, big);
        if (length < 32 || length % 4 || (Py_ssize_t)length > n - pos) break;
        if (u32(b + pos + length - 4, big) != length) break;
        uint32_t iface = u32(b + pos + 8, big), high = u32(b + pos + 12, big);
        uint32_t low = u32(b + pos + 16, big), cap = u32(b + pos + 20, big);
        uint32_t orig = u32(b + pos + 24, big);
        Py_ssize_t start = pos + 28, end = pos + length - 4;
        if ((Py_ssize_t)cap > end - start || (long long)iface >= interfaces) break;
        int64_t row[5] = {start, iface, (int64_t)((uint64_t)high << 32 | low), cap, orig};
        failed = rows_add(&rows, row) < 0;
        pos += length;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return rows_result(&rows, failed, pos, cut);
}

static PyObject *names(const char *const *list, int count) {
    PyObject *t = PyTuple_New(count);
    for (int i = 0; t && i < count; i++) {
        PyObject *s = PyUnicode_FromString(list[i]);
        if (!s) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS,
     "decode(data, offset, caplen, linktype, time_ns, fixed) -> dict of the text columns' "
     "buffers; writes done, proto, dns_qr and the numeric columns into `fixed` (see "
     "the module's source; done[i] == 0: left to the Python decoder)."},
    {"walk_epb", walk_epb, METH_VARARGS,
     "walk_epb(data, pos, big_endian, interfaces) -> (arrays, end, -1): a pcapng's run of "
     "well-formed Enhanced Packet Blocks, as _pcapfile reads them."},
    {"walk", walk, METH_VARARGS,
     "walk(data, pos, header_len, big_endian, swapped) -> (arrays, end, cut): a pcap's "
     "records, as _pcapfile reads them."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_fastpcap",
    .m_doc = "The capture reader's compiled packet decoder.", .m_size = -1, .m_methods = methods};

PyMODINIT_FUNC PyInit__fastpcap(void) {
    make_octets();
    if (PyType_Ready(&BlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObject(m, "NUM_COLUMNS", names(NUM_NAMES, N_COUNT)) < 0 ||
        PyModule_AddObject(m, "STR_COLUMNS", names(STR_NAMES, S_COUNT)) < 0 ||
        PyModule_AddObject(m, "PROTOCOLS",
                           names(PROTO_NAMES, (int)(sizeof(PROTO_NAMES) / sizeof(*PROTO_NAMES)))) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
