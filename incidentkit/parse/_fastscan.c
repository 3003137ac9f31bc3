/*
 * One pass over tcpdump text in C: the fast path of incidentkit.parse.tcpdump.
 *
 * scan(data, ports) walks the lines of `data` once and, for every line, says what kind
 * of line it surely is (a record start, an indented line, a blank line, or "unknown",
 * which the Python reader decides with the patterns of _grammar.py). For the record
 * layouts analysts meet most -- one line, "TIME IP src > dst: info" with UDP, DNS, TCP,
 * SCTP, DCCP or ICMP, in the default, -n, -nn, -#, -tt and -tttt styles -- it also writes
 * every column of the schema directly.
 *
 * compact(buf, starts, ends) then packs each row's text to the front of the reader's own
 * buffer, in place: the `raw` column is that buffer, not a copy of the log.
 *
 * The rule that keeps the two paths identical: at every point where the patterns of
 * _grammar.py could choose between readings, this scanner takes the reading the
 * pattern prefers, and when it cannot be sure of that reading it gives the line up
 * (ok = 0) and the Python reader parses it with the patterns themselves. The tests
 * compare both paths over tcpdump's regression outputs and the scenario library.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* --------------------------------------------------------------------- buffers */
/*
 * The scan runs without the GIL (Python may run one scan per part of a log in threads),
 * so its buffers are plain memory (malloc's, or pages of their own when large: see
 * MAP_MIN); at the end each becomes a Block, a Python object that owns it and exports
 * it through the buffer protocol (numpy and pyarrow then use it without a copy).
 */
typedef struct {
    char *ptr;
    Py_ssize_t len, cap;
    int mapped; /* ptr is pages of its own (mmap), not malloc's */
} Buf;

/*
 * Buffers of MAP_MIN bytes and more are pages mapped for them alone, not malloc's
 * memory: they go back to the system the moment their Block is freed (malloc keeps
 * freed blocks below its moving mmap threshold in its heaps, where pyarrow's allocator
 * cannot use them), and pages never written -- a column no row fills -- never take
 * memory at all, since fresh pages read as zeros.
 */
#define MAP_MIN ((Py_ssize_t)1 << 18)

static char *pages(Py_ssize_t n) {
    void *p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void buf_release(char *p, Py_ssize_t cap, int mapped) {
    if (!p) return;
    if (mapped) munmap(p, (size_t)cap);
    else free(p);
}

/* cap bytes, zeroed when zero (mapped pages always are) */
static int buf_init(Buf *b, Py_ssize_t cap, int zero) {
    if (cap < 64) cap = 64;
    b->mapped = cap >= MAP_MIN;
    b->ptr = b->mapped ? pages(cap) : zero ? calloc((size_t)cap, 1) : malloc((size_t)cap);
    b->len = 0;
    b->cap = cap;
    return b->ptr ? 0 : -1;
}

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap * 2;
    while (cap < b->len + extra) cap *= 2;
    char *p;
    if (b->mapped) {
#ifdef MREMAP_MAYMOVE
        p = mremap(b->ptr, (size_t)b->cap, (size_t)cap, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) return -1;
#else
        if (!(p = pages(cap))) return -1;
        memcpy(p, b->ptr, (size_t)b->len);
        munmap(b->ptr, (size_t)b->cap);
#endif
    } else if (cap >= MAP_MIN) {
        if (!(p = pages(cap))) return -1;
        memcpy(p, b->ptr, (size_t)b->len);
        free(b->ptr);
        b->mapped = 1;
    } else if (!(p = realloc(b->ptr, (size_t)cap))) {
        return -1;
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

typedef struct {
    PyObject_HEAD char *ptr;
    Py_ssize_t len, cap;
    int mapped;
} Block;

static int block_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Block *b = (Block *)self;
    return PyBuffer_FillInfo(view, self, b->ptr, b->len, 0, flags);
}

static void block_dealloc(PyObject *self) {
    Block *b = (Block *)self;
    buf_release(b->ptr, b->cap, b->mapped);
    Py_TYPE(self)->tp_free(self);
}

static Py_ssize_t block_len(PyObject *self) { return ((Block *)self)->len; }

static PyBufferProcs block_as_buffer = {block_getbuffer, NULL};
static PySequenceMethods block_as_sequence = {.sq_length = block_len};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "incidentkit.parse._fastscan.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = block_dealloc,
    .tp_as_buffer = &block_as_buffer,
    .tp_as_sequence = &block_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory the scanner filled, exported through the buffer protocol.",
};

/* The Block that takes over b's memory (its unused tail given back); NULL on failure. */
static PyObject *buf_take(Buf *b) {
    Block *block = PyObject_New(Block, &BlockType);
    if (!block) return NULL;
    block->ptr = b->ptr;
    block->cap = b->cap;
    block->mapped = b->mapped;
    if (b->mapped) {
        Py_ssize_t page = (Py_ssize_t)sysconf(_SC_PAGESIZE);
        Py_ssize_t keep = (b->len + page - 1) / page * page;
        if (keep == 0) keep = page;
        if (keep < b->cap && munmap(b->ptr + keep, (size_t)(b->cap - keep)) == 0) block->cap = keep;
    } else if (b->len) {
        char *p = realloc(b->ptr, (size_t)b->len);
        if (p) block->ptr = p;
    }
    block->len = b->len;
    b->ptr = NULL;
    return (PyObject *)block;
}

static void buf_free(Buf *b) {
    buf_release(b->ptr, b->cap, b->mapped);
    b->ptr = NULL;
}

#define BUF_PTR(b) ((b)->ptr)

/* A fixed-width column of n values, with a validity bitmap (Arrow layout). */
typedef struct {
    Buf values, valid;
    int width;
} Num;

static int num_init(Num *c, Py_ssize_t n, int width) {
    c->width = width;
    if (buf_init(&c->values, n * width + 8, 0) < 0) return -1; /* null slots stay unset */
    if (buf_init(&c->valid, n / 8 + 8, 1) < 0) return -1;
    c->values.len = n * width;
    c->valid.len = (n + 7) / 8;
    return 0;
}

static inline void num_set(Num *c, Py_ssize_t i, uint64_t v) {
    char *p = BUF_PTR(&c->values) + i * c->width;
    switch (c->width) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: *(uint16_t *)p = (uint16_t)v; break;
    case 4: *(uint32_t *)p = (uint32_t)v; break;
    default: *(int64_t *)p = (int64_t)v; break;
    }
    BUF_PTR(&c->valid)[i >> 3] |= (char)(1u << (i & 7));
}

/* A string column: offsets (n + 1; int32, or int64 when wide), the bytes, a validity bitmap. */
typedef struct {
    Buf offsets, data, valid;
    int wide;
} Str;

static int str_init(Str *c, Py_ssize_t n, Py_ssize_t guess, int wide) {
    c->wide = wide;
    if (buf_init(&c->offsets, (n + 1) * (wide ? 8 : 4) + 8, 1) < 0) return -1;
    if (buf_init(&c->data, guess, 0) < 0) return -1;
    if (buf_init(&c->valid, n / 8 + 8, 1) < 0) return -1;
    c->offsets.len = (n + 1) * (wide ? 8 : 4);
    c->valid.len = (n + 7) / 8;
    return 0;
}

/* Row i gets s[0:len] (valid) -- rows must be written in order; skipped rows stay null. */
static inline int str_set(Str *c, Py_ssize_t i, const char *s, Py_ssize_t len) {
    if (buf_reserve(&c->data, len) < 0) return -1;
    memcpy(BUF_PTR(&c->data) + c->data.len, s, (size_t)len);
    c->data.len += len;
    BUF_PTR(&c->valid)[i >> 3] |= (char)(1u << (i & 7));
    return 0;
}

/* Close row i: its end offset is where the data stands now. */
static inline void str_close(Str *c, Py_ssize_t i) {
    if (!c->data.len) return; /* the offsets are zeros so far: their pages stay unwritten */
    if (c->wide) ((int64_t *)BUF_PTR(&c->offsets))[i + 1] = (int64_t)c->data.len;
    else ((int32_t *)BUF_PTR(&c->offsets))[i + 1] = (int32_t)c->data.len;
}

/* --------------------------------------------------------------------- port names */
/*
 * The service names the reader may turn into numbers (tcpdump.py's _port_table), in an
 * open-addressing table sized for them when scan() starts: at most half full, so every
 * name finds a free slot and a lookup, hit or miss, probes a few slots. The longest probe
 * a name needed is kept, and no lookup probes further. More than PORT_NAMES_MAX names, a
 * key that is not text or a number that is no port are refused with an error; a name of
 * PORT_NAME_LEN bytes or more is left out (its lines go to the patterns).
 */
#define PORT_NAME_LEN 40
#define PORT_NAMES_MAX (1 << 16)

typedef struct {
    char name[PORT_NAME_LEN];
    int len;
    int port;
} PortSlot;

typedef struct {
    PortSlot *slots;
    uint32_t mask;
    int probes; /* the longest probe of any name */
} Ports;

static uint32_t fnv(const char *s, Py_ssize_t n) {
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int ports_load(Ports *t, PyObject *dict) {
    Py_ssize_t count = PyDict_Size(dict);
    if (count > PORT_NAMES_MAX) {
        PyErr_Format(PyExc_ValueError, "scan: %zd port names, more than the %d it holds", count,
                     PORT_NAMES_MAX);
        return -1;
    }
    uint32_t size = 64;
    while (size < 2 * (uint32_t)count) size <<= 1;
    t->slots = PyMem_Calloc(size, sizeof(PortSlot));
    if (!t->slots) {
        PyErr_NoMemory();
        return -1;
    }
    t->mask = size - 1;
    t->probes = 0;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "scan: port names must be str, not %.100s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(key, &n);
        if (!s) return -1;
        long port = PyLong_AsLong(value);
        if (port == -1 && PyErr_Occurred()) return -1;
        if (port < 0 || port > 65535) {
            PyErr_Format(PyExc_ValueError, "scan: port name %R maps to %ld, not a port", key,
                         port);
            return -1;
        }
        if (n <= 0 || n >= PORT_NAME_LEN) continue;
        uint32_t h = fnv(s, n) & t->mask;
        int k = 1;
        while (t->slots[h].len) { /* at most half full: a free slot comes */
            h = (h + 1) & t->mask;
            k++;
        }
        memcpy(t->slots[h].name, s, (size_t)n);
        t->slots[h].len = (int)n;
        t->slots[h].port = (int)port;
        if (k > t->probes) t->probes = k;
    }
    return 0;
}

/* The port a service name stands for, or -1 when the table does not know it. */
static int ports_find(const Ports *t, const char *s, Py_ssize_t n) {
    if (n <= 0 || n >= PORT_NAME_LEN) return -1;
    uint32_t h = fnv(s, n) & t->mask;
    for (int k = 0; k < t->probes; k++, h = (h + 1) & t->mask) {
        const PortSlot *slot = &t->slots[h];
        if (slot->len == 0) return -1;
        if (slot->len == n && memcmp(slot->name, s, (size_t)n) == 0) return slot->port;
    }
    return -1;
}

/* --------------------------------------------------------------------- helpers */
#define ISDIG(c) ((c) >= '0' && (c) <= '9')
#define ISHEX(c) (ISDIG(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define ISALNUM(c) (ISDIG(c) || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

/* s[0:n] begins with the string literal `lit` (its length known when compiling) */
#define starts(s, n, lit) \
    ((Py_ssize_t)(n) >= (Py_ssize_t)sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

static inline Py_ssize_t digits(const char *s, Py_ssize_t n) {
    Py_ssize_t k = 0;
    while (k < n && ISDIG(s[k])) k++;
    return k;
}

/* _digits of the reader: the value of n >= 1 digits when it is at most `max` (at most
 * 10 digits, after any leading zeros); -1 otherwise, a number out of its column's range
 * (the Python reader then writes down why). */
static inline int64_t to_int(const char *s, Py_ssize_t n, int64_t max) {
    while (n > 1 && s[0] == '0') {
        s++;
        n--;
    }
    if (n <= 0 || n > 10) return -1;
    int64_t v = 0;
    for (Py_ssize_t k = 0; k < n; k++) v = v * 10 + (s[k] - '0');
    return v <= max ? v : -1;
}

/* the first `lit` in s[0:n], or NULL (memchr for its first byte: short texts, rare bytes) */
static inline const char *find_n(const char *s, Py_ssize_t n, const char *lit, Py_ssize_t k) {
    const char *end = s + n;
    for (const char *q = s; end - q >= k; q++) {
        q = memchr(q, lit[0], (size_t)(end - q - k + 1));
        if (!q) return NULL;
        if (memcmp(q + 1, lit + 1, (size_t)(k - 1)) == 0) return q;
    }
    return NULL;
}
#define find(s, n, lit) find_n((s), (n), (lit), (Py_ssize_t)sizeof(lit) - 1)

/* days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int valid_date(int64_t y, int64_t m, int64_t d) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1678 || y > 2261 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= dim[m - 1] + (m == 2 && leap);
}

/* --------------------------------------------------------------------- columns */
/*
 * The tables below are what the reader must agree on with the schema; the module hands
 * them out (NUM_COLUMNS, STR_COLUMNS, PROTOCOLS, DNS_QR, TIME_KINDS) and _cpath.py
 * checks them against incidentkit/schema.py and _times.py when it loads the module, so
 * a table that drifts from them is an ImportError, not a column misread.
 */

/* `proto` codes: the categories of schema.PROTOCOLS, in its order */
enum {
    P_UDP, P_TCP, P_SCTP, P_DCCP, P_ICMP, P_ICMP6, P_ARP, P_IP, P_IP6, P_OTHER, P_UNPARSED,
    P_COUNT
};
static const char *PROTO_NAMES[P_COUNT] = {
    [P_UDP] = "udp",   [P_TCP] = "tcp",     [P_SCTP] = "sctp", [P_DCCP] = "dccp",
    [P_ICMP] = "icmp", [P_ICMP6] = "icmp6", [P_ARP] = "arp",   [P_IP] = "ip",
    [P_IP6] = "ip6",   [P_OTHER] = "other", [P_UNPARSED] = "unparsed"};

/* `dns_qr` codes: the categories of the schema's dns_qr, in its order */
enum { Q_QUERY, Q_RESPONSE, Q_COUNT };
static const char *QR_NAMES[Q_COUNT] = {[Q_QUERY] = "query", [Q_RESPONSE] = "response"};

/* `_tkind` codes: how a timestamp reads, as the _T_* kinds of _times.py (the scanner writes
 * clock, dated and epoch times; the patterns read the rest, and the stamps tcpdump marks
 * "(invalid us)" or whose fraction runs past 9 digits) */
enum { T_NONE, T_CLOCK, T_DATED, T_EPOCH, T_DELTA, T_BAD_DATE, T_INVALID, T_FRACTION, T_COUNT };
static const char *TIME_KIND_NAMES[T_COUNT] = {
    [T_NONE] = "none",         [T_CLOCK] = "clock",     [T_DATED] = "dated",
    [T_EPOCH] = "epoch",       [T_DELTA] = "delta",     [T_BAD_DATE] = "bad_date",
    [T_INVALID] = "invalid",   [T_FRACTION] = "fraction"};

/* The number columns and their widths in bytes (those of the schema's dtypes; _tkind,
 * _tval, proto and dns_qr are codes the reader turns into the frame's columns) */
enum {
    N_PKT, N_TKIND, N_TVAL, N_PROTO, N_SPORT, N_DPORT, N_LENGTH, N_TTL, N_DNS_ID, N_DNS_QR,
    N_DNS_ANCOUNT, N_TCP_ACK, N_TCP_WIN, N_COUNT
};
static const char *NUM_NAMES[N_COUNT] = {
    [N_PKT] = "packet",      [N_TKIND] = "_tkind",  [N_TVAL] = "_tval",
    [N_PROTO] = "proto",     [N_SPORT] = "sport",   [N_DPORT] = "dport",
    [N_LENGTH] = "length",   [N_TTL] = "ttl",       [N_DNS_ID] = "dns_id",
    [N_DNS_QR] = "dns_qr",   [N_DNS_ANCOUNT] = "dns_ancount",
    [N_TCP_ACK] = "tcp_ack", [N_TCP_WIN] = "tcp_win"};
static const int NUM_WIDTH[N_COUNT] = {
    [N_PKT] = 4,    [N_TKIND] = 1,  [N_TVAL] = 8, [N_PROTO] = 1,       [N_SPORT] = 2,
    [N_DPORT] = 2,  [N_LENGTH] = 4, [N_TTL] = 1,  [N_DNS_ID] = 2,      [N_DNS_QR] = 1,
    [N_DNS_ANCOUNT] = 2,            [N_TCP_ACK] = 4,                   [N_TCP_WIN] = 4};

/* The string columns (a leading '_': texts the reader decodes into other columns) */
enum {
    S_SRC, S_DST, S_DNS_FLAGS, S_DNS_QTYPE, S_DNS_QNAME, S_DNS_RCODE, S_DNS_ANSWERS,
    S_TCP_FLAGS, S_TCP_SEQ, S_INFO, S_ICMP_TEXT, S_ICMP6_TEXT, S_COUNT
};
static const char *STR_NAMES[S_COUNT] = {
    [S_SRC] = "src",             [S_DST] = "dst",
    [S_DNS_FLAGS] = "dns_flags", [S_DNS_QTYPE] = "dns_qtype",
    [S_DNS_QNAME] = "dns_qname", [S_DNS_RCODE] = "dns_rcode",
    [S_DNS_ANSWERS] = "dns_answers", [S_TCP_FLAGS] = "tcp_flags",
    [S_TCP_SEQ] = "tcp_seq",     [S_INFO] = "info",
    [S_ICMP_TEXT] = "_icmp_text", [S_ICMP6_TEXT] = "_icmp6_text"};

typedef struct {
    const char *p;
    Py_ssize_t n; /* n < 0: null */
} Span;

#define NOSPAN ((Span){NULL, -1})
#define SPAN(ptr, len) ((Span){(ptr), (len)})

/* What one record line holds, before it is written out. */
typedef struct {
    int64_t num[N_COUNT];
    Span str[S_COUNT];
    uint32_t has, strs; /* bit k: num[k] / str[k] is set */
} Row;

#define SETNUM(row, k, v) do { (row)->num[k] = (v); (row)->has |= 1u << (k); } while (0)
#define SETSTR(row, k, v) do { (row)->str[k] = (v); (row)->strs |= 1u << (k); } while (0)

/* --------------------------------------------------------------------- addresses */
/*
 * NUMERIC_ADDRESS / NAMED_ADDRESS of _grammar.py, for the shapes that are certain:
 *   d.d.d.d  d.d.d.d.PORT  (IPv4)   hex:hex...  hex:hex....PORT  (IPv6, one dot at most)
 * Returns 1 and the host length and port (-1: none) or 0 when unsure, or when the port
 * is a number past 65535 (the patterns then say why).
 */
static int split_address(const char *t, Py_ssize_t n, int ported, const Ports *ports,
                         Py_ssize_t *host_len, int *port) {
    Py_ssize_t hl = -1;
    { /* IPv4: d.d.d.d, then the end or ".PORT" */
        Py_ssize_t k = 0;
        int part;
        for (part = 0; part < 4; part++) {
            Py_ssize_t d0 = k;
            while (k < n && ISDIG(t[k])) k++;
            if (k == d0) break;
            if (part < 3) {
                if (k >= n || t[k] != '.') break;
                k++;
            }
        }
        if (part == 4) {
            if (k == n) hl = n;
            else if (t[k] == '.' && !memchr(t + k + 1, '.', (size_t)(n - k - 1))) hl = k;
            else return 0;
        }
    }
    if (hl < 0) { /* IPv6: hex digits and ':' (one at least), then the end or ".PORT" */
        Py_ssize_t k = 0;
        int colon = 0;
        while (k < n && (ISHEX(t[k]) || t[k] == ':')) {
            colon |= t[k] == ':';
            k++;
        }
        if (!colon) return 0;
        if (k == n) hl = n;
        else if (t[k] == '.' && !memchr(t + k + 1, '.', (size_t)(n - k - 1))) hl = k;
        else return 0;
    }
    *host_len = hl;
    *port = -1;
    if (hl == n) return 1;
    /* the port: [A-Za-z0-9][\w-]* */
    const char *pt = t + hl + 1;
    Py_ssize_t pn = n - hl - 1;
    if (pn <= 0 || !ISALNUM(pt[0])) return 0;
    for (Py_ssize_t k = 1; k < pn; k++)
        if (!(ISALNUM(pt[k]) || pt[k] == '_' || pt[k] == '-')) return 0;
    if (!ported) return 1;
    if (digits(pt, pn) == pn) {
        int64_t v = 0;
        for (Py_ssize_t k = 0; k < pn && v < 65536; k++) v = v * 10 + (pt[k] - '0');
        if (v >= 65536) return 0; /* out of range: the patterns say why */
        *port = (int)v;
        return 1;
    }
    *port = ports_find(ports, pt, pn);
    return *port >= 0; /* a name the table does not know: the Python reader asks the system */
}

/* --------------------------------------------------------------------- DNS */
static const char *RCODES[] = {"FormErr", "ServFail", "NXDomain", "NotImp",   "Refused",
                               "YXDomain", "YXRRSet", "NXRRSet",  "NotAuth",  "NotZone",
                               "NoChange", "BadVers", "BadCookie", NULL};

static inline int is_flag(char c) {
    return c == '*' || c == '-' || c == '|' || c == '$' || c == '+' || c == '%';
}

/* " (N)" ending the text exactly: returns the digits' span or n < 0 */
static Span final_len(const char *s, Py_ssize_t n) {
    if (n < 4 || s[n - 1] != ')') return NOSPAN;
    Py_ssize_t k = n - 2;
    while (k >= 0 && ISDIG(s[k])) k--;
    if (k == n - 2 || k < 1 || s[k] != '(' || s[k - 1] != ' ') return NOSPAN;
    return SPAN(s + k + 1, n - 2 - k);
}

typedef struct {
    int kind; /* 0 not DNS, 1 query, 2 response, -1 unsure */
    Span id, rcode, flags, qtype, qname, an, answers, dlen;
} Dns;

/*
 * The tail of the DNS pattern after the question:
 *   (?: AN/NS/AR answers)?(?: \((N)\))?$
 * (texts holding " ns: ", " ar: " or "[|domain]" never get here). 1 on a match.
 * `fl` is the final " (N)" of the whole DNS text (final_len, found once per text: the
 * question name is tried at every space, and looking for it again at each would be
 * quadratic on a name of many spaces); its blank is at fl.p - 2.
 */
static int dns_tail(const char *x, Py_ssize_t n, Span fl, Dns *d) {
    const char *tail = fl.n >= 0 ? fl.p - 2 : NULL;
    if (n > 0 && x[0] == ' ') {
        Py_ssize_t k = 1, a = digits(x + k, n - k);
        if (a) {
            Span an = SPAN(x + k, a);
            k += a;
            if (k < n && x[k] == '/') {
                Py_ssize_t b = digits(x + k + 1, n - k - 1);
                if (b) {
                    k += 1 + b;
                    if (k < n && x[k] == '/') {
                        Py_ssize_t c = digits(x + k + 1, n - k - 1);
                        if (c) {
                            k += 1 + c;
                            d->an = an;
                            if (tail && tail >= x + k) {
                                d->answers = SPAN(x + k, (fl.p - 2) - (x + k));
                                d->dlen = fl;
                            } else {
                                d->answers = SPAN(x + k, n - k);
                                d->dlen = NOSPAN;
                            }
                            return 1;
                        }
                    }
                }
            }
        }
    }
    d->an = NOSPAN;
    d->answers = NOSPAN;
    if (n == 0) {
        d->dlen = NOSPAN;
        return 1;
    }
    if (tail == x) {
        d->dlen = fl;
        return 1;
    }
    return 0;
}

/* `rare`: the line holds " ns: ", " ar: " or "[|" (tails this scanner leaves alone) */
static void dns_parse(const char *s, Py_ssize_t n, int rare, Dns *d) {
    d->kind = -1;
    d->id = d->rcode = d->flags = d->qtype = d->qname = d->an = d->answers = d->dlen = NOSPAN;
    if (rare) return;
    Py_ssize_t k = digits(s, n);
    if (k == 0) return;
    d->id = SPAN(s, k);
    /* an opcode (lower case) after the id: let the patterns decide */
    if (k + 1 < n && s[k] == ' ' && s[k + 1] >= 'a' && s[k + 1] <= 'z') return;
    /* (?: ?RCODE)? */
    d->rcode = NOSPAN;
    {
        Py_ssize_t w = (k < n && s[k] == ' ') ? k + 1 : k;
        Py_ssize_t end = -1;
        for (int r = 0; w < n && s[w] >= 'A' && s[w] <= 'Z' && RCODES[r]; r++) {
            Py_ssize_t len = (Py_ssize_t)strlen(RCODES[r]);
            if (n - w >= len && memcmp(s + w, RCODES[r], (size_t)len) == 0) { end = w + len; break; }
        }
        if (end < 0 && starts(s + w, n - w, "Resp")) {
            Py_ssize_t dd = digits(s + w + 4, n - w - 4);
            if (dd) end = w + 4 + dd;
        }
        if (end >= 0) {
            if (end < n && !(is_flag(s[end]) || s[end] == ' ')) return;
            d->rcode = SPAN(s + w, end - w);
            k = end;
        }
    }
    Py_ssize_t f0 = k;
    while (k < n && is_flag(s[k])) k++;
    d->flags = SPAN(s + f0, k - f0);
    if (starts(s + k, n - k, " [b2&3=")) return;
    /* (?: \[\d+(?:a|q|n|au)\])* */
    while (starts(s + k, n - k, " [")) {
        Py_ssize_t dd = digits(s + k + 2, n - k - 2);
        if (!dd) return;
        Py_ssize_t j = k + 2 + dd;
        if (starts(s + j, n - j, "au]")) k = j + 3;
        else if (starts(s + j, n - j, "a]") || starts(s + j, n - j, "q]") ||
                 starts(s + j, n - j, "n]"))
            k = j + 2;
        else return;
    }
    /* (?:,? (?:q: )?QTYPE(?: \([^)]*\))?\? QNAME)? */
    d->qtype = d->qname = NOSPAN;
    {
        Py_ssize_t j = k;
        if (j < n && s[j] == ',') j++;
        if (j < n && s[j] == ' ') {
            j++;
            if (starts(s + j, n - j, "q: ")) j += 3;
            if (j < n && s[j] >= 'A' && s[j] <= 'Z') {
                Py_ssize_t t0 = j++;
                while (j < n && (ISALNUM(s[j]) || s[j] == '_' || s[j] == '-')) j++;
                Py_ssize_t t1 = j;
                if (starts(s + j, n - j, " (")) {
                    const char *close = memchr(s + j, ')', (size_t)(n - j));
                    if (close) j = close - s + 1;
                }
                if (starts(s + j, n - j, "? ")) {
                    j += 2;
                    d->qtype = SPAN(s + t0, t1 - t0);
                    /* the question name is as short as the rest allows: it ends at the
                     * first blank (or the end) where the tail matches; each try reads
                     * only the digits and '/' after its blank, so the loop is linear */
                    Span fl = final_len(s, n);
                    for (Py_ssize_t q = j; q <= n; q++) {
                        if (q < n && s[q] != ' ') continue;
                        if (dns_tail(s + q, n - q, fl, d)) {
                            d->qname = SPAN(s + j, q - j);
                            break;
                        }
                    }
                    d->kind = d->an.n >= 0 ? 2 : 1;
                    return;
                }
            }
        }
    }
    if (!dns_tail(s + k, n - k, final_len(s, n), d)) return;
    d->kind = d->an.n >= 0 ? 2 : 0;
}

/* LAST_LENGTH: the leftmost "length:? N" or "(N)" of a text */
static Span last_length(const char *info, Py_ssize_t info_n) {
    for (Py_ssize_t k = 0; k < info_n; k++) {
        if (info[k] == 'l' && starts(info + k, info_n - k, "length")) {
            Py_ssize_t x = k + 6;
            if (x < info_n && info[x] == ':') x++;
            if (x < info_n && info[x] == ' ') {
                Py_ssize_t d1 = digits(info + x + 1, info_n - x - 1);
                if (d1) return SPAN(info + x + 1, d1);
            }
        } else if (info[k] == '(') {
            Py_ssize_t d1 = digits(info + k + 1, info_n - k - 1);
            if (d1 && k + 1 + d1 < info_n && info[k + 1 + d1] == ')') return SPAN(info + k + 1, d1);
        }
    }
    return NOSPAN;
}

/* LENGTH_WORD of _fields.py: the leftmost "length:? N" of a text (last_length without its
 * "(N)": SCTP's "sctp (1) [INIT] ..." numbers its chunks so) */
static Span length_word(const char *info, Py_ssize_t info_n) {
    for (Py_ssize_t k = 0; k < info_n; k++) {
        if (info[k] == 'l' && starts(info + k, info_n - k, "length")) {
            Py_ssize_t x = k + 6;
            if (x < info_n && info[x] == ':') x++;
            if (x < info_n && info[x] == ' ') {
                Py_ssize_t d1 = digits(info + x + 1, info_n - x - 1);
                if (d1) return SPAN(info + x + 1, d1);
            }
        }
    }
    return NOSPAN;
}

/* The bytes the scan of a record's text stops at: controls, non-ASCII, ':', '(', '[', 'I'. */
static unsigned char SPECIAL[256];

static void special_init(void) {
    for (int c = 0; c < 256; c++) SPECIAL[c] = c < 0x20 || c >= 0x7f || c == ':' || c == '(' || c == '[' || c == 'I';
}

/* What the scan of a record line's text finds (see scan_marks). */
typedef struct {
    int bad;              /* a control or non-ASCII byte */
    int stamp;            /* "dd:dd:dd." -- maybe a second record on the line */
    int rare;             /* " ns: ", " ar: " or "[|" */
    int icmp6s;           /* how many "ICMP6, " */
    const char *icmp6_at; /* the first */
    const char *vhdr;     /* the first "(tos", "(hlim", "(flowlabel", "(class" (a -v IP header) */
} Marks;

static void scan_marks(const char *s, Py_ssize_t p, Py_ssize_t n, Marks *m) {
    memset(m, 0, sizeof(*m));
    for (Py_ssize_t k = p; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (!SPECIAL[c]) continue;
        if (c == '[') {
            if (k + 1 < n && s[k + 1] == '|') m->rare = 1;
            continue;
        }
        if (c < 0x20 || c >= 0x7f) {
            m->bad = 1; /* (and on: a second record later on the line must still be seen) */
            continue;
        }
        if (c == ':') {
            if (k >= 3 && k + 1 < n && s[k + 1] == ' ' && s[k - 3] == ' ' &&
                ((s[k - 2] == 'n' && s[k - 1] == 's') || (s[k - 2] == 'a' && s[k - 1] == 'r')))
                m->rare = 1;
            if (k >= p + 2 && k + 6 < n && ISDIG(s[k - 1]) && ISDIG(s[k - 2]) &&
                ISDIG(s[k + 1]) && ISDIG(s[k + 2]) && s[k + 3] == ':' && ISDIG(s[k + 4]) &&
                ISDIG(s[k + 5]) && s[k + 6] == '.')
                m->stamp = 1;
        } else if (c == '(') {
            if (!m->vhdr && k + 1 < n &&
                (s[k + 1] == 't' || s[k + 1] == 'h' || s[k + 1] == 'f' || s[k + 1] == 'c') &&
                (starts(s + k, n - k, "(tos") || starts(s + k, n - k, "(hlim") ||
                 starts(s + k, n - k, "(flowlabel") || starts(s + k, n - k, "(class")))
                m->vhdr = s + k;
        } else if (c == 'I' && k + 1 < n && s[k + 1] == 'C' && starts(s + k, n - k, "ICMP6, ")) {
            if (!m->icmp6s++) m->icmp6_at = s + k;
        }
    }
}

#define ISWORD(c) (ISALNUM(c) || (c) == '_')

/*
 * IP_HEADER of _grammar.py on a -v header line s[0:n] whose first '(' is at h: the first
 * "ttl N" / "hlim N" (after a non-word byte), then the first "proto W (N)" /
 * "next-header W (N)" after it. 0 when either is missing (the patterns then look further)
 * or when the TTL is out of its column's range (the patterns then say why).
 */
static int ip_header(const char *s, Py_ssize_t n, Py_ssize_t h, int64_t *ttl, Span *l4) {
    Py_ssize_t k = h + 1, t = -1;
    for (; k < n; k++) {
        Py_ssize_t w = 0;
        if (s[k] == 't' && starts(s + k, n - k, "ttl ")) w = 4;
        else if (s[k] == 'h' && starts(s + k, n - k, "hlim ")) w = 5;
        if (w && !ISWORD(s[k - 1]) && k + w < n && ISDIG(s[k + w])) {
            t = k + w;
            break;
        }
    }
    if (t < 0) return 0;
    Py_ssize_t d = digits(s + t, n - t);
    *ttl = to_int(s + t, d, 255);
    if (*ttl < 0) return 0;
    for (k = t + d; k < n; k++) {
        Py_ssize_t w = 0;
        if (s[k] == 'p' && starts(s + k, n - k, "proto ")) w = 6;
        else if (s[k] == 'n' && starts(s + k, n - k, "next-header ")) w = 12;
        if (!w) continue;
        Py_ssize_t q = k + w, q0 = q;
        while (q < n && (ISWORD(s[q]) || s[q] == '-')) q++;
        if (q == q0 || !starts(s + q, n - q, " (")) continue;
        Py_ssize_t dd = digits(s + q + 2, n - q - 2);
        if (dd && q + 2 + dd < n && s[q + 2 + dd] == ')') {
            *l4 = SPAN(s + q0, q - q0);
            return 1;
        }
    }
    return 0;
}

/* TCP's optional ", ack N" / ", win N" (six bytes of words) at q: the number into column
 * col; returns where the text goes on, or NULL when the number is past 32 bits. */
static const char *tcp_number(const char *q, const char *end, const char *words, Row *row,
                              int col) {
    if (end - q < 6 || memcmp(q, words, 6) != 0) return q;
    Py_ssize_t d = digits(q + 6, end - q - 6);
    if (!d) return q;
    int64_t v = to_int(q + 6, d, 4294967295LL);
    if (v < 0) return NULL;
    SETNUM(row, col, v);
    return q + 6 + d;
}

/* --------------------------------------------------------------------- one line */

enum { C_UNKNOWN = 0, C_START = 1, C_INDENTED = 2, C_BLANK = 3 };

typedef struct {
    const Ports *ports;
} Ctx;

/* Every number below is written only when it fits its column; one that does not sends
 * the line to the patterns, which leave the column empty and say why. The readers of
 * the parts of a record return 1 when they read their part, 0 to give the line up. */

/* A blank line (only [\t\n\f\r ]) or an indented one: C_BLANK or C_INDENTED; -1 for a
 * line that may start a record. */
static int line_kind(const char *s, Py_ssize_t n) {
    Py_ssize_t k = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f' || s[k] == '\r')) k++;
    if (k == n) return C_BLANK;
    if (s[0] == '\t') return C_INDENTED;
    if (s[0] == ' ') {
        /* A record starts with blanks only as " *\d+  " (-#) or " TIME" (-ttt). */
        Py_ssize_t sp = 0;
        while (sp < n && s[sp] == ' ') sp++;
        Py_ssize_t d = digits(s + sp, n - sp);
        int numbered = d && sp + d + 1 < n && s[sp + d] == ' ' && s[sp + d + 1] == ' ';
        int delta = sp == 1 && d && sp + d < n && (s[sp + d] == ':' || s[sp + d] == '-');
        if (!numbered && !delta) return C_INDENTED;
    }
    return -1;
}

/* -# packet number: " *\d+  "; *p: where the line goes on. 0: the patterns decide. */
static int packet_number(const char *s, Py_ssize_t n, Row *row, Py_ssize_t *p) {
    Py_ssize_t q = 0;
    while (q < n && s[q] == ' ') q++;
    Py_ssize_t d = digits(s + q, n - q);
    if (d && q + d + 1 < n && s[q + d] == ' ' && s[q + d + 1] == ' ') {
        int64_t v = to_int(s + q, d, 4294967295LL);
        if (v < 0) return 0; /* out of range: the patterns say why */
        SETNUM(row, N_PKT, v);
        *p = q + d + 2;
    } else if (q > 0) {
        return 0; /* a -ttt/-ttttt delta (" 00:00:00.1") or odd spacing */
    }
    return 1;
}

/*
 * The timestamp at s[*p] and the blank after it: "13:24:32.192571" (default),
 * "2020-06-10 09:19:54.740079" (-tttt), "1418145369.924505" (-tt); *p: where the body
 * begins. 0 for any other (a line this scanner cannot read to its end is "unknown": the
 * patterns decide whether it starts a record, or two).
 */
static int timestamp(const char *s, Py_ssize_t n, Row *row, Py_ssize_t *p) {
    int64_t tkind = T_NONE, tval = 0;
    Py_ssize_t d = digits(s + *p, n - *p), k = *p;
    int64_t day = 0;
    int dated = 0;
    if (d == 4 && k + 10 < n && s[k + 4] == '-' && ISDIG(s[k + 5]) && ISDIG(s[k + 6]) &&
        s[k + 7] == '-' && ISDIG(s[k + 8]) && ISDIG(s[k + 9]) && s[k + 10] == ' ') {
        int64_t y = (s[k] - '0') * 1000 + (s[k + 1] - '0') * 100 + (s[k + 2] - '0') * 10 +
                    (s[k + 3] - '0');
        int64_t m = (s[k + 5] - '0') * 10 + (s[k + 6] - '0');
        int64_t dd = (s[k + 8] - '0') * 10 + (s[k + 9] - '0');
        if (!valid_date(y, m, dd)) return 0;
        day = days_from_civil(y, m, dd);
        dated = 1;
        k += 11;
        d = digits(s + k, n - k);
    }
    Py_ssize_t end;
    if (d >= 1 && d <= 6 && k + d + 6 < n && s[k + d] == ':' && ISDIG(s[k + d + 1]) &&
        ISDIG(s[k + d + 2]) && s[k + d + 3] == ':' && ISDIG(s[k + d + 4]) &&
        ISDIG(s[k + d + 5]) && s[k + d + 6] == '.') {
        int64_t hh = 0;
        for (Py_ssize_t j = 0; j < d; j++) hh = hh * 10 + (s[k + j] - '0');
        int64_t mm = (s[k + d + 1] - '0') * 10 + (s[k + d + 2] - '0');
        int64_t ss = (s[k + d + 4] - '0') * 10 + (s[k + d + 5] - '0');
        Py_ssize_t f0 = k + d + 7, fl = digits(s + f0, n - f0);
        if (fl < 1 || fl > 9) return 0;
        int64_t frac = 0;
        for (Py_ssize_t j = 0; j < fl; j++) frac = frac * 10 + (s[f0 + j] - '0');
        for (Py_ssize_t j = fl; j < 9; j++) frac *= 10;
        tval = (hh * 3600 + mm * 60 + ss) * 1000000000LL + frac; /* hh < 10^6: fits */
        if (dated) {
            int64_t day_ns = day * 86400LL * 1000000000LL; /* a year 1678 to 2261: fits */
            if (day_ns > 0 && tval > INT64_MAX - day_ns) return 0; /* past 2262 */
            tval += day_ns;
            tkind = T_DATED;
        } else {
            tkind = T_CLOCK;
        }
        end = f0 + fl;
    } else if (!dated && d >= 9 && d <= 10 && k + d < n && s[k + d] == '.') {
        int64_t ep = 0;
        for (Py_ssize_t j = 0; j < d; j++) ep = ep * 10 + (s[k + j] - '0');
        Py_ssize_t f0 = k + d + 1, fl = digits(s + f0, n - f0);
        if (fl < 1 || fl > 9) return 0;
        int64_t frac = 0;
        for (Py_ssize_t j = 0; j < fl; j++) frac = frac * 10 + (s[f0 + j] - '0');
        for (Py_ssize_t j = fl; j < 9; j++) frac *= 10;
        if (ep > (INT64_MAX - frac) / 1000000000LL) return 0; /* past 2262 */
        tval = ep * 1000000000LL + frac;
        tkind = T_EPOCH;
        end = f0 + fl;
    } else {
        return 0;
    }
    if (end >= n || s[end] != ' ') return 0;
    if (starts(s + end, n - end, " (invalid")) return 0;
    *p = end + 1;
    SETNUM(row, N_TKIND, tkind);
    SETNUM(row, N_TVAL, tval);
    return 1;
}

/* ARP (print-arp.c) on the body body[0:bn]: "ARP, Request who-has T tell A, length N",
 * "ARP, Reply S is-at M" */
static int read_arp(const char *body, Py_ssize_t bn, const Marks *m1, Row *row) {
    const char *end = body + bn;
    if (m1->vhdr || find(body, bn, " > ")) return 0;
    const char *req = find(body, bn, "Request who-has ");
    const char *rep = find(body, bn, "Reply ");
    if (req && (!rep || req < rep)) {
        const char *t = req + 16, *q = t;
        while (q < end && *q != ' ') q++;
        if (q == t) return 0;
        Span target = SPAN(t, q - t);
        if (starts(q, end - q, " (")) {
            const char *close = memchr(q, ')', (size_t)(end - q));
            if (close) q = close + 1;
        }
        if (!starts(q, end - q, " tell ")) return 0;
        const char *a0 = q + 6, *a1 = a0;
        while (a1 < end && *a1 != ' ' && *a1 != ',') a1++;
        if (a1 == a0) return 0;
        SETSTR(row, S_SRC, SPAN(a0, a1 - a0));
        SETSTR(row, S_DST, target);
    } else if (rep) {
        const char *t = rep + 6, *q = t;
        while (q < end && *q != ' ') q++;
        if (q == t || !starts(q, end - q, " is-at ")) return 0;
        const char *mac0 = q + 7, *mac1 = mac0;
        while (mac1 < end && *mac1 != ' ' && *mac1 != ',') mac1++;
        if (mac1 == mac0) return 0;
        SETSTR(row, S_SRC, SPAN(t, q - t));
    } else {
        return 0;
    }
    SETNUM(row, N_PROTO, P_ARP);
    SETSTR(row, S_INFO, SPAN(body, bn));
    Span len_tok = last_length(body, bn);
    if (len_tok.n > 0) {
        int64_t length = to_int(len_tok.p, len_tok.n, 4294967295LL);
        if (length < 0) return 0;
        SETNUM(row, N_LENGTH, length);
    }
    return 1;
}

/* An IP or IP6 record, read part by part: its lines, the addresses, the protocol. */
typedef struct {
    const char *L; /* the line with the addresses, L[0:Ln]: the first, or with -v the next */
    Py_ssize_t Ln;
    int lines;      /* how many lines the record holds (1, or 2) */
    Marks m2;       /* the marks of the address line when it is the next one */
    const Marks *m; /* the marks of the address line (the first's, or m2) */
    int64_t ttl;    /* -v: the TTL or hop limit; -1: none */
    Span l4;        /* -v: the protocol the header names ("UDP", "TCP", "SCTP", ...) */
    Py_ssize_t a, e, b, j; /* the source is L[a:e], the destination L[b:j] */
    const char *info, *core; /* what follows "src > dst: ", and the same less a "[...] " */
    Py_ssize_t info_n, core_n;
    const char *icmp6_at; /* the "ICMP6, " the text starts with, or NULL */
} Ip;

/*
 * The line with the addresses of an IP record whose "IP " or "IP6 " ends at s[a]: this
 * one; with -v, after the header "IP (tos 0x0, ttl 64, ..., proto UDP (17), length 64)",
 * the next one, or in 4.99 this one again, after IPv6's header:
 * "IP6 (hlim 64, next-header UDP (17) payload length: 45) src > dst: ...".
 */
static int ip_lines(const char *s, Py_ssize_t n, Py_ssize_t a, const char *next,
                    const char *end_of_data, const Marks *m1, Ip *ip) {
    ip->L = s;
    ip->Ln = n;
    ip->m2 = *m1;
    ip->m = m1;
    ip->ttl = -1;
    ip->l4 = NOSPAN;
    ip->lines = 1;
    ip->a = a;
    if (!m1->vhdr) return 1;
    if (m1->vhdr != s + a || !ip_header(s, n, a, &ip->ttl, &ip->l4)) return 0;
    const char *gt = find(s + a, n - a, " > ");
    if (gt) { /* one line: the addresses follow the header */
        Py_ssize_t e0 = gt - s, k = e0;
        while (k > a && s[k - 1] != ' ') k--;
        if (k == a || k == e0 || memchr(s + a, '>', (size_t)(e0 - a))) return 0;
        ip->a = k;
        return 1;
    }
    /* two lines: the next one is "    src > dst: ..." */
    if (!next || memchr(s + a, '>', (size_t)(n - a))) return 0;
    const char *nl = memchr(next, '\n', (size_t)(end_of_data - next));
    Py_ssize_t Ln = (nl ? nl : end_of_data) - next;
    const char *L = next;
    if (Ln == 0 || L[0] != ' ') return 0;
    scan_marks(L, 0, Ln, &ip->m2);
    if (ip->m2.bad || m1->icmp6s) return 0;
    ip->L = L;
    ip->Ln = Ln;
    ip->m = &ip->m2;
    Py_ssize_t k = 0;
    while (k < Ln && L[k] == ' ') k++;
    ip->a = k;
    ip->lines = 2;
    return 1;
}

/* "src > dst: info" from L[a]: where the addresses lie, the info and its core (the info
 * less a leading "[udp sum ok] " or such) */
static int ip_addresses(Ip *ip) {
    const char *L = ip->L;
    Py_ssize_t Ln = ip->Ln, a = ip->a;
    if (ip->m->icmp6s > 1) return 0;
    Py_ssize_t e = a;
    while (e < Ln && L[e] != ' ' && L[e] != '>') e++;
    if (e == a || !starts(L + e, Ln - e, " > ")) return 0;
    Py_ssize_t b = e + 3, j = b;
    for (;;) {
        if (j >= Ln || L[j] == ' ' || L[j] == '>') return 0;
        if (L[j] == ':' && j + 1 < Ln && L[j + 1] == ' ') break;
        if (L[j] == ':' && j + 1 == Ln) return 0;
        j++;
    }
    if (j == b || j + 2 >= Ln) return 0;
    ip->e = e;
    ip->b = b;
    ip->j = j;
    const char *info = L + j + 2;
    Py_ssize_t info_n = Ln - j - 2;
    const char *core = info;
    Py_ssize_t core_n = info_n;
    if (core[0] == '[') {
        const char *close = memchr(core + 1, ']', (size_t)(core_n - 1));
        if (close && close + 1 < core + core_n && close[1] == ' ') {
            core_n -= (close + 2) - core;
            core = close + 2;
        }
    }
    ip->info = info;
    ip->info_n = info_n;
    ip->core = core;
    ip->core_n = core_n;
    return 1;
}

/*
 * Which protocol the record is (ICMP6, ICMP, TCP, by its text or -v header; then with a
 * port SCTP, DCCP or UDP; else IP or IP6), and its addresses split into host and port:
 * the columns every IP record has. Returns the protocol, or -1 to give the line up.
 */
static int ip_protocol(const Ctx *ctx, Ip *ip, Row *row) {
    const char *L = ip->L, *core = ip->core;
    Py_ssize_t Ln = ip->Ln, core_n = ip->core_n;
    Span l4 = ip->l4;
    /* ICMP6_START: "ICMP6, " at the start of the core or after "] ", ") ", "HBH ", "DSTOPT " */
    int icmp6 = 0;
    const char *o = ip->m->icmp6_at;
    if (o) {
        if (o < core || find(L, Ln, "IP6 (")) return -1;
        icmp6 = o == core || (o - 2 >= core && (o[-2] == ']' || o[-2] == ')') && o[-1] == ' ') ||
                (o - 4 >= core && memcmp(o - 4, "HBH ", 4) == 0) ||
                (o - 7 >= core && memcmp(o - 7, "DSTOPT ", 7) == 0);
        if (!icmp6) return -1;
    }
    ip->icmp6_at = o;
    int icmp = !icmp6 && starts(core, core_n, "ICMP ");
    int tcp = !icmp && !icmp6 && (starts(core, core_n, "Flags [") ||
                                  (starts(core, core_n, "tcp ") && core_n > 4 && ISDIG(core[4])) ||
                                  (l4.n == 3 && memcmp(l4.p, "TCP", 3) == 0));
    Py_ssize_t src_host, dst_host;
    int sport, dport;
    int ported = !icmp && !icmp6;
    const char *src = L + ip->a, *dst = L + ip->b;
    if (!split_address(src, ip->e - ip->a, ported, ctx->ports, &src_host, &sport)) return -1;
    if (!split_address(dst, ip->j - ip->b, ported, ctx->ports, &dst_host, &dport)) return -1;
    int proto;
    if (icmp6) proto = P_ICMP6;
    else if (icmp) proto = P_ICMP;
    else if (tcp) proto = P_TCP;
    else if (sport >= 0 || dport >= 0) {
        /* SCTP and DCCP print ports as UDP does: their printers begin the text
         * (print-sctp.c "sctp (1) [INIT] ...", "sctp [|sctp]"; print-dccp.c "DCCP
         * DCCP-Request (service=0)", -v "DCCP (CCVal 0, CsCov 0, ...) ..."), or a -v IP
         * header names them ("proto SCTP (132)", "next-header DCCP (33)") */
        if ((starts(core, core_n, "sctp") && (core_n == 4 || !ISWORD(core[4]))) ||
            (l4.n == 4 && memcmp(l4.p, "SCTP", 4) == 0))
            proto = P_SCTP;
        else if (starts(core, core_n, "DCCP ") || (l4.n == 4 && memcmp(l4.p, "DCCP", 4) == 0))
            proto = P_DCCP;
        else
            proto = P_UDP;
    } else {
        proto = memchr(src, ':', (size_t)src_host) ? P_IP6 : P_IP;
    }
    SETNUM(row, N_PROTO, proto);
    SETSTR(row, S_SRC, SPAN(src, src_host));
    SETSTR(row, S_DST, SPAN(dst, dst_host));
    if (ip->ttl >= 0) SETNUM(row, N_TTL, ip->ttl);
    if (sport >= 0) { SETNUM(row, N_SPORT, sport); }
    if (dport >= 0) { SETNUM(row, N_DPORT, dport); }
    SETSTR(row, S_INFO, SPAN(ip->info, ip->info_n));
    return proto;
}

/* What a transport's text says of its length, and where DNS text starts in it. */
typedef struct {
    Span len;        /* its length ("length N" of TCP, "UDP, length N", "udp N", ...) */
    const char *dns; /* DNS text, dns[0:dns_n], or NULL */
    Py_ssize_t dns_n;
} Transport;

/*
 * TCP (print-tcp.c) on the core:
 *   Flags [P.], seq 1:59, ack 1, win 64240, length 58 17177+ [1au] A? www.tcpdump.org. (56)
 *   Flags [S], cksum 0x0c41 (correct), seq 603899916, win 64240, options [...], length 0
 *   tcp 0                                                              (-q)
 */
static int read_tcp(const char *core, Py_ssize_t core_n, Row *row, Transport *t) {
    if (!starts(core, core_n, "Flags [") && !starts(core, core_n, "tcp ")) return 0;
    if (starts(core, core_n, "tcp ")) {
        /* -q: "tcp N"; without N ("tcp x, length 5" after a -v header that says TCP)
         * the length is the line's first "length N", as for any other text */
        Py_ssize_t d1 = digits(core + 4, core_n - 4);
        if (d1) t->len = SPAN(core + 4, d1);
        return 1;
    }
    const char *close = memchr(core + 7, ']', (size_t)(core_n - 7));
    if (!close) return 0;
    Py_ssize_t fl = close - (core + 7);
    if (fl > 0) SETSTR(row, S_TCP_FLAGS, SPAN(core + 7, fl));
    const char *q = close + 1, *end = core + core_n;
#define REST (end - q)
    if (starts(q, REST, ", cksum 0x")) {
        const char *h = q + 10;
        while (h < end && (ISDIG(*h) || (*h >= 'a' && *h <= 'f'))) h++;
        if (h > q + 10 && starts(h, end - h, " (")) {
            const char *c2 = memchr(h + 2, ')', (size_t)(end - h - 2));
            if (c2) q = c2 + 1;
        }
    }
    if (starts(q, REST, ", seq ")) {
        Py_ssize_t d1 = digits(q + 6, REST - 6);
        if (d1) {
            Py_ssize_t sl = d1;
            if (q + 6 + d1 < end && q[6 + d1] == ':') {
                Py_ssize_t d2 = digits(q + 7 + d1, REST - 7 - d1);
                if (d2) sl = d1 + 1 + d2;
            }
            SETSTR(row, S_TCP_SEQ, SPAN(q + 6, sl));
            q += 6 + sl;
        }
    }
    if (!(q = tcp_number(q, end, ", ack ", row, N_TCP_ACK))) return 0;
    if (!(q = tcp_number(q, end, ", win ", row, N_TCP_WIN))) return 0;
    if (starts(q, REST, ", urg ")) {
        Py_ssize_t d1 = digits(q + 6, REST - 6);
        if (d1) q += 6 + d1;
    }
    if (starts(q, REST, ", options [")) {
        const char *c2 = memchr(q + 11, ']', (size_t)(REST - 11));
        if (c2) q = c2 + 1;
    }
    if (starts(q, REST, ", length ")) {
        Py_ssize_t d1 = digits(q + 9, REST - 9);
        if (d1) t->len = SPAN(q + 9, d1);
    }
#undef REST
    /* DNS over TCP: after the first ", length N: " or ", length N " before a digit */
    const char *r = close + 1;
    for (;;) {
        const char *hit = find(r, end - r, ", length ");
        if (!hit) break;
        const char *x = hit + 9;
        Py_ssize_t d1 = digits(x, end - x);
        if (d1) {
            const char *y = x + d1;
            if (y < end && *y == ':' && y + 2 < end && y[1] == ' ' && ISDIG(y[2])) {
                t->dns = y + 2;
                break;
            }
            if (y + 1 < end && *y == ' ' && ISDIG(y[1])) {
                t->dns = y + 1;
                break;
            }
        }
        r = hit + 1;
    }
    if (t->dns) t->dns_n = end - t->dns;
    return 1;
}

/* UDP (print-udp.c) on the core: DNS text ("35084+ A? x. (24)", after any "[udp sum ok] "),
 * "UDP, length 56" (no decoder), "udp 56" (-q) */
static int read_udp(const char *core, Py_ssize_t core_n, Transport *t) {
    if (starts(core, core_n, "Flags [")) return 0;
    const char *u = core;
    Py_ssize_t un = core_n;
    if (un && u[0] == '[') {
        const char *close = memchr(u + 1, ']', (size_t)(un - 1));
        if (close && close + 1 < u + un && close[1] == ' ') {
            un -= (close + 2) - u;
            u = close + 2;
            if (un && ISDIG(u[0])) { t->dns = u; t->dns_n = un; }
        }
    } else if (un && ISDIG(u[0])) {
        t->dns = u;
        t->dns_n = un;
    }
    if (starts(u, un, "UDP, length ")) {
        Py_ssize_t d1 = digits(u + 12, un - 12);
        if (d1) t->len = SPAN(u + 12, d1);
    } else if (starts(u, un, "udp ")) {
        Py_ssize_t d1 = digits(u + 4, un - 4);
        if (d1) t->len = SPAN(u + 4, d1);
    }
    return 1;
}

/*
 * DNS (print-domain.c) over UDP or TCP: "35084+ A? yummyrecipesforme.com. (24)",
 * "22836*- 2/2/5 A 192.139.46.66, A 198.199.88.104 (224)"; over UDP its "(N)" is the
 * record's length (*over). `rare`: the record holds " ns: ", " ar: " or "[|".
 */
static int read_dns(const char *text, Py_ssize_t n, int rare, int proto, Row *row, Span *over) {
    Dns d;
    dns_parse(text, n, rare, &d);
    if (d.kind < 0) return 0;
    if (d.kind == 0) return 1; /* (no DNS text after all) */
    int64_t id = to_int(d.id.p, d.id.n, 65535);
    if (id < 0) return 0;
    SETNUM(row, N_DNS_ID, id);
    SETNUM(row, N_DNS_QR, d.kind == 2 ? Q_RESPONSE : Q_QUERY);
    if (d.flags.n > 0) SETSTR(row, S_DNS_FLAGS, d.flags);
    if (d.qtype.n > 0) SETSTR(row, S_DNS_QTYPE, d.qtype);
    if (d.qname.n > 0) {
        Span q = d.qname;
        if (q.n >= 2 && q.p[q.n - 1] == '.') q.n--;
        SETSTR(row, S_DNS_QNAME, q);
    }
    if (d.kind == 2) {
        SETSTR(row, S_DNS_RCODE, d.rcode.n > 0 ? d.rcode : SPAN("NoError", 7));
        int64_t an = to_int(d.an.p, d.an.n, 65535);
        if (an < 0) return 0;
        SETNUM(row, N_DNS_ANCOUNT, an);
        Span w = d.answers;
        while (w.n > 0 && w.p[0] == ' ') { w.p++; w.n--; }
        while (w.n > 0 && w.p[w.n - 1] == ' ') w.n--;
        if (w.n > 0) SETSTR(row, S_DNS_ANSWERS, w);
    }
    if (proto == P_UDP && d.dlen.n > 0) *over = d.dlen;
    return 1;
}

/* ICMP (print-icmp.c) on the core, "ICMP <text>, length N": the text (the Python reader
 * decodes it) and the length (*over) */
static int read_icmp(const char *core, Py_ssize_t core_n, Row *row, Span *over) {
    const char *t = core + 5, *end = core + core_n;
    const char *stop = end;
    Span il = NOSPAN;
    for (const char *r = t; r < end;) {
        const char *hit = find(r, end - r, " length ");
        if (!hit) break;
        Py_ssize_t d1 = digits(hit + 8, end - hit - 8);
        if (d1) {
            stop = (hit > t && hit[-1] == ',') ? hit - 1 : hit;
            il = SPAN(hit + 8, d1);
            break;
        }
        r = hit + 1;
    }
    if (stop <= t) return 0;
    SETSTR(row, S_ICMP_TEXT, SPAN(t, stop - t));
    if (il.n > 0) *over = il;
    return 1;
}

/* ICMP6 (print-icmp6.c), "ICMP6, <text>, length N" from at[0] to end: the text runs to a
 * last ",? length N" (or the end); lazily the earliest */
static int read_icmp6(const char *at, const char *end, Row *row) {
    const char *t = at + 7;
    if (find(t, end - t, "[|")) return 0;
    const char *stop = end, *q = end;
    while (q > t && ISDIG(q[-1])) q--;
    if (q < end && q - t >= 8 && memcmp(q - 8, " length ", 8) == 0) {
        stop = q - 8;
        if (stop > t && stop[-1] == ',') stop--;
    }
    if (stop <= t) return 0;
    SETSTR(row, S_ICMP6_TEXT, SPAN(t, stop - t));
    return 1;
}

/*
 * IP / IP6 from s[p] on: "IP src > dst: info" on this line, or with -v on the next.
 * Returns how many lines the record holds (0: the line goes to the patterns).
 */
static int read_ip(const Ctx *ctx, const char *s, Py_ssize_t n, Py_ssize_t p, const char *next,
                   const char *end_of_data, const Marks *m1, Row *row) {
    Py_ssize_t a;
    if (starts(s + p, n - p, "IP ")) a = p + 3;
    else if (starts(s + p, n - p, "IP6 ")) a = p + 4;
    else return 0;
    Ip ip;
    if (!ip_lines(s, n, a, next, end_of_data, m1, &ip) || !ip_addresses(&ip)) return 0;
    int proto = ip_protocol(ctx, &ip, row);
    if (proto < 0) return 0;
    /* the reader's first-of: tcp, udp, then the line's first length */
    Transport t = {NOSPAN, NULL, 0};
    Span over = NOSPAN; /* a DNS or ICMP length, when one overrides the rest */
    if (proto == P_TCP && !read_tcp(ip.core, ip.core_n, row, &t)) return 0;
    if (proto == P_UDP && !read_udp(ip.core, ip.core_n, &t)) return 0;
    if (t.dns && !read_dns(t.dns, t.dns_n, m1->rare || ip.m2.rare, proto, row, &over)) return 0;
    if (proto == P_ICMP && !read_icmp(ip.core, ip.core_n, row, &over)) return 0;
    if (proto == P_ICMP6 && !read_icmp6(ip.icmp6_at, ip.L + ip.Ln, row)) return 0;
    /* the DNS or ICMP length, else the TCP or UDP one, else the line's first "length N"
     * or "(N)" (SCTP and DCCP: its first "length N", or none) */
    Span len_tok = t.len;
    if (over.n > 0) len_tok = over;
    else if (proto == P_SCTP || proto == P_DCCP) len_tok = length_word(ip.info, ip.info_n);
    else if (len_tok.n < 0) len_tok = last_length(ip.info, ip.info_n);
    if (len_tok.n > 0) {
        int64_t length = to_int(len_tok.p, len_tok.n, 4294967295LL);
        if (length < 0) return 0;
        SETNUM(row, N_LENGTH, length);
    }
    return ip.lines;
}

/*
 * Classify line s[0:n] (no line end) and, when it is a record of a layout this scanner
 * knows, fill `row`. Returns the line code; *ok says whether `row` holds the record (how
 * many lines it holds).
 */
static int parse_line(const Ctx *ctx, const char *s, Py_ssize_t n, const char *next,
                      const char *end_of_data, Row *row, int *ok) {
    *ok = 0;
    int kind = line_kind(s, n);
    if (kind >= 0) return kind;
    Py_ssize_t p = 0;
    if (!packet_number(s, n, row, &p) || !timestamp(s, n, row, &p)) return C_UNKNOWN;
    /*
     * A sure record start. Anything that could be a second record on the line
     * ("dd:dd:dd." after the header), a control or non-ASCII byte, or a word that wakes
     * a rarer pattern (a -v IP header, a second "ICMP6, ") sends the line to the Python
     * reader.
     */
    Marks m1;
    scan_marks(s, p, n, &m1);
    if (m1.stamp) return C_UNKNOWN;
    if (m1.bad) return C_START;
    if (starts(s + p, n - p, "ARP, ")) *ok = read_arp(s + p, n - p, &m1, row);
    else *ok = read_ip(ctx, s, n, p, next, end_of_data, &m1, row);
    return C_START;
}

/* --------------------------------------------------------------------- scan() */
/* A Python tuple of the Blocks that take over `count` buffers; NULL on failure. */
static PyObject *take_all(Buf **bufs, int count) {
    PyObject *t = PyTuple_New(count);
    if (!t) return NULL;
    for (int k = 0; k < count; k++) {
        PyObject *block = buf_take(bufs[k]);
        if (!block) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, block);
    }
    return t;
}

/* result[name] = the tuple of Blocks take_all makes of `bufs`; -1 on failure. */
static int put_all(PyObject *result, const char *name, Buf **bufs, int count) {
    PyObject *t = take_all(bufs, count);
    int rc = t ? PyDict_SetItemString(result, name, t) : -1;
    Py_XDECREF(t);
    return rc;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *port_dict;
    int wide = 0;
    if (!PyArg_ParseTuple(args, "y*O!|p", &view, &PyDict_Type, &port_dict, &wide)) return NULL;
    const char *data = view.buf;
    Py_ssize_t size = view.len;
    PyObject *result = NULL;
    Ports ports = {NULL, 0, 0};
    Num num[N_COUNT];
    Str str[S_COUNT];
    Buf offsets, codes, oks;
    memset(num, 0, sizeof(num));
    memset(str, 0, sizeof(str));
    memset(&offsets, 0, sizeof(offsets));
    memset(&codes, 0, sizeof(codes));
    memset(&oks, 0, sizeof(oks));
    if (ports_load(&ports, port_dict) < 0) goto done;
    if (size >= INT32_MAX) wide = 1; /* 64-bit string offsets */
    int failed = 0;
    Py_ssize_t n = 0;
    Py_BEGIN_ALLOW_THREADS
    /* lines: each ends at '\n' (a last line without one counts too) */
    for (const char *q = data, *end = data + size; q < end;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        n++;
        if (!nl) break;
        q = nl + 1;
    }
    if (buf_init(&offsets, (n + 1) * 8, 0) < 0 || buf_init(&codes, n + 1, 1) < 0 ||
        buf_init(&oks, n + 1, 1) < 0)
        failed = 1;
    offsets.len = (n + 1) * 8;
    codes.len = oks.len = n;
    for (int c = 0; c < N_COUNT && !failed; c++)
        if (num_init(&num[c], n, NUM_WIDTH[c]) < 0) failed = 1;
    for (int c = 0; c < S_COUNT && !failed; c++) {
        Py_ssize_t guess = c == S_INFO ? size / 2 : size / 16;
        if (str_init(&str[c], n, guess, wide) < 0) failed = 1;
    }
    if (!failed) {
        Ctx ctx = {&ports};
        int64_t *off = (int64_t *)BUF_PTR(&offsets);
        char *code = BUF_PTR(&codes), *ok_out = BUF_PTR(&oks);
        const char *q = data, *end = data + size;
        Row row;
        for (Py_ssize_t i = 0; i < n && !failed; i++) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            const char *le = nl ? nl : end;
            off[i] = q - data;
            row.has = row.strs = 0;
            int ok = 0;
            code[i] = (char)parse_line(&ctx, q, le - q, nl && nl + 1 < end ? nl + 1 : NULL, end,
                                       &row, &ok);
            ok_out[i] = (char)ok;
            if (ok) {
                for (int c = 0; c < N_COUNT; c++)
                    if (row.has & (1u << c)) num_set(&num[c], i, (uint64_t)row.num[c]);
                for (int c = 0; c < S_COUNT; c++)
                    if ((row.strs & (1u << c)) &&
                        str_set(&str[c], i, row.str[c].p, row.str[c].n) < 0)
                        failed = 1;
            }
            for (int c = 0; c < S_COUNT; c++) str_close(&str[c], i);
            q = nl ? nl + 1 : end;
        }
        off[n] = q - data;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }

    result = PyDict_New();
    if (!result) goto done;
    {
        PyObject *items[4] = {PyLong_FromSsize_t(n), NULL, NULL, NULL};
        Buf *single[3] = {&offsets, &codes, &oks};
        const char *keys[4] = {"n", "offsets", "code", "ok"};
        for (int k = 0; k < 3 && items[0]; k++) items[k + 1] = buf_take(single[k]);
        int bad = 0;
        for (int k = 0; k < 4; k++) {
            if (!items[k] || PyDict_SetItemString(result, keys[k], items[k]) < 0) bad = 1;
            Py_XDECREF(items[k]);
        }
        if (bad || PyDict_SetItemString(result, "wide", wide ? Py_True : Py_False) < 0) {
            Py_CLEAR(result);
            goto done;
        }
    }
    for (int c = 0; c < N_COUNT; c++) {
        Buf *parts[2] = {&num[c].values, &num[c].valid};
        if (put_all(result, NUM_NAMES[c], parts, 2) < 0) {
            Py_CLEAR(result);
            goto done;
        }
    }
    for (int c = 0; c < S_COUNT; c++) {
        Buf *parts[3] = {&str[c].offsets, &str[c].data, &str[c].valid};
        if (put_all(result, STR_NAMES[c], parts, 3) < 0) {
            Py_CLEAR(result);
            goto done;
        }
    }

done:
    for (int c = 0; c < N_COUNT; c++) {
        buf_free(&num[c].values);
        buf_free(&num[c].valid);
    }
    for (int c = 0; c < S_COUNT; c++) {
        buf_free(&str[c].offsets);
        buf_free(&str[c].data);
        buf_free(&str[c].valid);
    }
    buf_free(&offsets);
    buf_free(&codes);
    buf_free(&oks);
    PyMem_Free(ports.slots);
    PyBuffer_Release(&view);
    return result;
}

/* --------------------------------------------------------------------- compact() */
/*
 * The rows' texts packed to the front of the log's own buffer, in place: row i is
 * buf[starts[i]:ends[i]] less its trailing line ends, and moves to new offsets[i]. The
 * rows must come in order and not overlap, so every text moves forward over bytes that
 * were already read. The log's buffer then holds the `raw` column, not a copy of it.
 */
static PyObject *compact(PyObject *self, PyObject *args) {
    Py_buffer buf, sv, ev;
    if (!PyArg_ParseTuple(args, "w*y*y*", &buf, &sv, &ev)) return NULL;
    PyObject *result = NULL;
    Buf off = {0};
    Py_ssize_t k = sv.len / 8;
    if (sv.len % 8 || ev.len != sv.len) {
        PyErr_SetString(PyExc_ValueError, "compact: starts and ends must be int64 of one length");
        goto done;
    }
    if (buf_init(&off, (k + 1) * 8, 0) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    off.len = (k + 1) * 8;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    char *d = buf.buf;
    const int64_t *s = sv.buf, *e = ev.buf;
    int64_t *o = (int64_t *)BUF_PTR(&off), w = 0;
    o[0] = 0;
    for (Py_ssize_t i = 0; i < k; i++) {
        int64_t a = s[i], b = e[i];
        if (a < w || b < a || b > buf.len) {
            bad = 1;
            break;
        }
        while (b > a && d[b - 1] == '\n') b--;
        if (a != w) memmove(d + w, d + a, (size_t)(b - a));
        w += b - a;
        o[i + 1] = w;
    }
    Py_END_ALLOW_THREADS
    if (bad) PyErr_SetString(PyExc_ValueError, "compact: rows out of order or out of the buffer");
    else result = buf_take(&off);
done:
    buf_free(&off);
    PyBuffer_Release(&buf);
    PyBuffer_Release(&sv);
    PyBuffer_Release(&ev);
    return result;
}

/* --------------------------------------------------------------------- buffer() */
/*
 * A bytearray of n bytes, not zeroed, for a log to be read into: the reader overwrites
 * every byte, and zeroing 100 MB first costs as much as reading it. Its memory is given
 * huge pages where the system allows (fewer page faults while it is filled: 0.03 s
 * instead of 0.11 s for 100 MB here).
 */
static PyObject *buffer(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "buffer: a negative size");
        return NULL;
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, n);
    if (!out) return NULL;
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t start = (uintptr_t)PyByteArray_AS_STRING(out);
    uintptr_t lo = (start + huge - 1) & ~(huge - 1), hi = (start + (uintptr_t)n) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE); /* (advice only) */
#endif
    return out;
}

static PyMethodDef methods[] = {
    {"buffer", buffer, METH_VARARGS,
     "buffer(n: int) -> bytearray: n bytes, not zeroed, for a log to be read into."},
    {"scan", scan, METH_VARARGS,
     "scan(data: bytes, ports: dict[str, int], wide: bool = False) -> dict: line kinds and "
     "the columns of the records this scanner knows (see incidentkit.parse.tcpdump); string "
     "columns have 64-bit offsets when wide or when data is 2 GiB or more."},
    {"compact", compact, METH_VARARGS,
     "compact(buf: bytearray, starts: int64 array, ends: int64 array) -> offsets: each "
     "row's text (less its trailing line ends) moved to the front of buf, in place; the "
     "int64 offsets of the packed rows, k + 1 of them."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastscan",
                                    "The C fast path of the tcpdump text reader.", -1, methods,
                                    NULL, NULL, NULL, NULL};

/* --------------------------------------------------------------------- the tables */
/* A tuple of the `count` names (a name missing from its table is an error, not a crash). */
static PyObject *names_tuple(const char *const *names, int count, const char *table) {
    PyObject *t = PyTuple_New(count);
    if (!t) return NULL;
    for (int k = 0; k < count; k++) {
        PyObject *name = names[k] ? PyUnicode_FromString(names[k]) : NULL;
        if (!names[k])
            PyErr_Format(PyExc_SystemError, "_fastscan: %s has no name for code %d", table, k);
        if (!name) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, name);
    }
    return t;
}

/* NUM_COLUMNS: ((name, width in bytes), ...), in the order of the scan's columns */
static PyObject *num_columns(void) {
    PyObject *names = names_tuple(NUM_NAMES, N_COUNT, "NUM_NAMES");
    if (!names) return NULL;
    PyObject *t = PyTuple_New(N_COUNT);
    for (int k = 0; t && k < N_COUNT; k++) {
        PyObject *pair = Py_BuildValue("(Oi)", PyTuple_GET_ITEM(names, k), NUM_WIDTH[k]);
        if (!pair) Py_CLEAR(t);
        else PyTuple_SET_ITEM(t, k, pair);
    }
    Py_DECREF(names);
    return t;
}

/* module.name = value (a new reference, or NULL on an error already set); -1 on failure */
static int add_table(PyObject *m, const char *name, PyObject *value) {
    if (!value) return -1;
    int rc = PyModule_AddObjectRef(m, name, value);
    Py_DECREF(value);
    return rc;
}

PyMODINIT_FUNC PyInit__fastscan(void) {
    special_init();
    if (PyType_Ready(&BlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (add_table(m, "NUM_COLUMNS", num_columns()) < 0 ||
        add_table(m, "STR_COLUMNS", names_tuple(STR_NAMES, S_COUNT, "STR_NAMES")) < 0 ||
        add_table(m, "PROTOCOLS", names_tuple(PROTO_NAMES, P_COUNT, "PROTO_NAMES")) < 0 ||
        add_table(m, "DNS_QR", names_tuple(QR_NAMES, Q_COUNT, "QR_NAMES")) < 0 ||
        add_table(m, "TIME_KINDS", names_tuple(TIME_KIND_NAMES, T_COUNT, "TIME_KIND_NAMES")) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
