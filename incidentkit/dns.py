"""DNS transactions: each query paired with its answer, its ICMP error, or silence."""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator
from typing import Final

import numpy as np
import pandas as pd

from . import schema
from .icmp import is_error

#: How long after a query its retry, answer or ICMP error may come, unless told otherwise.
WINDOW: Final = "5min"

#: Outcomes of a query, in the order the report lists them.
OUTCOMES: Final = ("answered", "error", "icmp_error", "no_response")

#: A query and the response that answers it share these, seen from the client.
_KEY: Final = ["client", "client_port", "server", "server_port", "dns_id"]
_ADDRESS_RE: Final = re.compile(r"(?:^|[\s,])(?:A|AAAA) ([0-9A-Fa-f:.]+)(?=,|\s|$)")


_QUERY_COLUMNS: Final = [
    "record", "line", "time", "proto", "src", "sport", "dst", "dport", "dns_id", "dns_qname",
    "dns_qtype",
]  # fmt: skip
_RESPONSE_COLUMNS: Final = ["record", "time", "dst", "dport", "src", "sport", "dns_id"]


def _queries(df: pd.DataFrame) -> pd.DataFrame:
    q = df.loc[(df["dns_qr"] == "query").to_numpy(dtype=bool), _QUERY_COLUMNS]
    return pd.DataFrame(
        {
            "query_record": q["record"].to_numpy(),
            "query_line": q["line"].array,
            "time": q["time"].array,
            "proto": q["proto"].cat.remove_unused_categories().to_numpy(),
            "client": q["src"].array,
            "client_port": q["sport"].array,
            "server": q["dst"].array,
            "server_port": q["dport"].array,
            "dns_id": q["dns_id"].array,
            "qname": q["dns_qname"].array,
            "qtype": q["dns_qtype"].array,
        }
    )


def _responses(df: pd.DataFrame) -> pd.DataFrame:
    """The responses, with what pairs them (their rcode and answers are read later, for
    the paired ones only); the question too when every response prints it."""
    mask = (df["dns_qr"] == "response").to_numpy(dtype=bool)
    named = bool(mask.any()) and bool(df["dns_qname"][mask].notna().all())
    columns = [*_RESPONSE_COLUMNS, "dns_qname", "dns_qtype"] if named else _RESPONSE_COLUMNS
    r = df.loc[mask, columns]
    out = pd.DataFrame(
        {
            "response_record": r["record"].to_numpy(),
            "response_time": r["time"].array,
            "client": r["dst"].array,
            "client_port": r["dport"].array,
            "server": r["src"].array,
            "server_port": r["sport"].array,
            "dns_id": r["dns_id"].array,
        }
    )
    if named:
        out["qname"] = r["dns_qname"].array
        out["qtype"] = r["dns_qtype"].array
    return out


def _within(delta: pd.Series, window: pd.Timedelta) -> np.ndarray:
    """True where ``delta`` (outcome minus query time) is in [0, window] or unknown."""
    d = pd.to_timedelta(delta)
    return (d.isna() | ((d >= pd.Timedelta(0)) & (d <= window))).to_numpy()


def _pair_responses(q: pd.DataFrame, r: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Each response answers the earliest query of its key that is still unanswered and
    within ``window`` before it (first in, first out); one response each.

    The key is the client's address and port, the server's address and port and the DNS
    id, and the question's name and type too when every response prints them (``-vv``).
    A response that finds no such query answers nothing.
    """
    if len(q) == 0 or len(r) == 0:
        return pd.DataFrame(
            {
                "query_record": pd.Series([], dtype="int64"),
                "response_record": pd.Series([], dtype="int64"),
            }
        )
    r_keys, q_keys = _key_codes(r, q)
    nq = len(q)
    keys = np.concatenate([q_keys, r_keys])
    recs = np.concatenate(
        [q["query_record"].to_numpy(dtype=np.int64), r["response_record"].to_numpy(dtype=np.int64)]
    )
    q_idx, r_idx = _fifo(keys, recs, nq)
    q_time = q["time"].to_numpy()[q_idx]
    r_time = r["response_time"].to_numpy()[r_idx]
    ok = _within(pd.Series(r_time - q_time), window)
    pairs = pd.DataFrame({"query_record": recs[q_idx], "response_record": recs[nq + r_idx]})
    if not ok.all():  # a key whose queue holds queries past the window: walk it in order
        bad = np.unique(keys[q_idx[~ok]])
        pairs = pd.concat(
            [pairs.loc[~np.isin(keys[q_idx], bad)], _walk(q, r, q_keys, r_keys, bad, window)]
        )
    return pairs.sort_values("response_record", ignore_index=True).astype("int64")


def _fifo(keys: np.ndarray, recs: np.ndarray, n_first: int) -> tuple[np.ndarray, np.ndarray]:
    """First in, first out, per key: ``keys`` and ``recs`` hold the waiting items (the
    first ``n_first``) and then the items that take them. Each taker, in record order,
    takes the earliest waiting item of its key recorded before it; one that finds none
    takes nothing. Returns the positions of the pairs (waiting, taker - n_first).

    The k-th taker of a key that finds one takes the key's k-th item: the takers that
    find the queue empty are counted by a running maximum, with no loop."""
    taker = np.zeros(len(keys), dtype=bool)
    taker[n_first:] = True
    order = np.lexsort((recs, keys))  # by key, then in input order
    k, t = keys[order], taker[order]
    n = len(k)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = k[1:] != k[:-1]
    gid = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    w_cum = np.cumsum(~t)
    t_cum = np.cumsum(t)
    w_in = w_cum - (w_cum[first] - (~t[first]))[gid]  # waiting items so far in the key
    t_in = t_cum - (t_cum[first] - t[first])[gid]  # takers so far in the key
    # takers that found the queue empty so far: max(0, running max of t_in - w_in)
    span = 2 * n + 2
    lifted = gid * span + (t_in - w_in) + n + 1
    empty = np.maximum(np.maximum.accumulate(lifted) - gid * span - n - 1, 0)
    before = np.zeros(n, dtype=np.int64)
    before[1:] = empty[:-1]
    before[start] = 0
    matched = t & (empty == before)
    m = (t_in - empty)[matched]  # the m-th matched taker of a key takes its m-th item
    w_positions = np.flatnonzero(~t)  # waiting items, by key then record
    w_offset = np.concatenate([[0], np.cumsum(np.bincount(gid[~t], minlength=len(first)))])
    w_at = w_positions[w_offset[gid[matched]] + m - 1]
    return order[w_at], order[np.flatnonzero(matched)] - n_first


def _walk(
    q: pd.DataFrame,
    r: pd.DataFrame,
    q_keys: np.ndarray,
    r_keys: np.ndarray,
    keys: np.ndarray,
    window: pd.Timedelta,
) -> pd.DataFrame:
    """:func:`_pair_responses` for the given keys, one event at a time (queries that
    fall out of the window leave the queue)."""
    qi = np.flatnonzero(np.isin(q_keys, keys))
    ri = np.flatnonzero(np.isin(r_keys, keys))
    q_ns, q_nat = _ns_array(q["time"].iloc[qi])
    r_ns, r_nat = _ns_array(r["response_time"].iloc[ri])
    events = sorted(
        [
            (int(rec), 0, int(key), i)
            for i, (rec, key) in enumerate(
                zip(q["query_record"].to_numpy()[qi], q_keys[qi], strict=True)
            )
        ]
        + [
            (int(rec), 1, int(key), i)
            for i, (rec, key) in enumerate(
                zip(r["response_record"].to_numpy()[ri], r_keys[ri], strict=True)
            )
        ]
    )
    limit = int(window.value)
    q_records = q["query_record"].to_numpy(dtype=np.int64)
    queues: dict[int, list[int]] = {}
    heads: dict[int, int] = {}
    out_q: list[int] = []
    out_r: list[int] = []
    for rec, kind, key, i in events:
        if kind == 0:
            queues.setdefault(key, []).append(i)
            continue
        queue = queues.get(key, [])
        h = heads.get(key, 0)
        while h < len(queue):
            j = queue[h]
            if q_nat[j] or r_nat[i] or 0 <= r_ns[i] - q_ns[j] <= limit:
                break
            h += 1  # out of the window: it waits no longer
        if h < len(queue):
            out_q.append(int(q_records[qi[queue[h]]]))
            out_r.append(rec)
            h += 1
        heads[key] = h
    return pd.DataFrame({"query_record": out_q, "response_record": out_r}, dtype="int64")


def _key_codes(
    r: pd.DataFrame, q: pd.DataFrame, key: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per distinct key, for both frames; a missing value is a value of its
    own (as "" would be: no address is empty). The key is ``key``'s columns, or by default
    client, ports, server, DNS id, and the question when every response prints it."""
    if key is None:
        key = [*_KEY, "qname", "qtype"] if "qname" in r.columns else _KEY
    columns = []
    for column in key:
        both = pd.concat([r[column], q[column]], ignore_index=True)
        columns.append(both.fillna("") if isinstance(both.dtype, pd.StringDtype) else both)
    codes = _combined(columns)
    return codes[: len(r)], codes[len(r) :]


def _combined(columns: list[pd.Series]) -> np.ndarray:
    """One integer per distinct combination of the columns' values, row by row (a
    missing value is a value of its own); not numbered densely."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    size = 1  # how many values ``codes`` can take
    for column in columns:
        part, uniques = pd.factorize(column)  # (missing: -1)
        radix = len(uniques) + 1
        if size * radix >= 1 << 62:  # renumber densely before the key could overflow
            codes, seen = pd.factorize(codes)
            size = len(seen)
        codes = codes * radix + part + 1
        size *= radix
    return codes


def _pair_icmp(
    q: pd.DataFrame, df: pd.DataFrame, answered_by: np.ndarray, window: pd.Timedelta
) -> dict[int, int]:
    """query record -> ICMP error record; ``answered_by`` holds the record of the response
    that answers each query of ``q`` (-1 for none, see :func:`_answered_by`).

    An error that quotes the whole query (-v: source port and DNS id) pairs with the
    oldest such query still waiting.
    Otherwise it pairs with the oldest query to the quoted destination (and port, when
    quoted) from the host it was sent to, sent before it, not yet answered or paired:
    a router that held queries while it looked for the server answers them in order.
    """
    errors = df.loc[
        is_error(df) & df["icmp_orig_dst"].notna(),
        [
            "record",
            "time",
            "dst",
            "icmp_orig_src",
            "icmp_orig_sport",
            "icmp_orig_dst",
            "icmp_orig_dport",
            "icmp_orig_dns_id",
        ],
    ]
    if len(errors) == 0 or len(q) == 0:
        return {}
    # q and errors are in record order; the loop below works on positions in plain lists
    nq = len(q)
    q_rec = q["query_record"].to_numpy(dtype=np.int64)
    q_ns, q_nat = _ns_array(q["time"])
    e_ns, e_nat = _ns_array(errors["time"])
    # a time that is not known never puts a query out of the window
    q_time = np.where(q_nat, _NEVER, q_ns)
    e_when = np.where(e_nat, -_NEVER, e_ns)
    q_answered = np.where(answered_by >= 0, answered_by, _NEVER)
    limit = int(window.value)
    # an error pairs only with a query sent before it in time too (inputs read together
    # need not be in time order); a time that is not known allows the pair
    q_sent = np.where(q_nat, -_NEVER, q_ns)
    e_check = np.where(e_nat, _NEVER, e_ns)

    # -v: an error that quotes the query itself (its source port and DNS id) pairs exactly
    whole = (errors["icmp_orig_src"].notna() & errors["icmp_orig_dns_id"].notna()).to_numpy()
    exact: dict[int, list[int]] = {}
    quotes: list[int | None] = [None] * len(errors)
    if whole.any():
        exact, quoted = _exact_keys(q, errors, whole)
        quotes = [key if w else None for key, w in zip(quoted.tolist(), whole, strict=True)]

    # Any other error draws from a queue: the queries from the host it was sent to, to the
    # quoted destination and port (or to any port when it quotes none), oldest first. Each
    # key is one integer, the two kinds in ranges of their own.
    def both(a: pd.Series, b: pd.Series) -> pd.Series:
        return pd.concat([a, b], ignore_index=True)

    client = both(q["client"], errors["dst"])
    server = both(q["server"], errors["icmp_orig_dst"])
    port = both(q["server_port"], errors["icmp_orig_dport"])
    by_host = _combined([client, server])
    with_port = _combined([pd.Series(by_host), port])
    by_host += int(with_port.max()) + 1
    e_queue = np.where(port[nq:].notna().to_numpy(), with_port[nq:], by_host[nq:])
    # where every query from a host to a server goes to one port, its two queues are one:
    # an error that quotes no port draws from the port's queue
    port_queues, first = np.unique(with_port[:nq], return_index=True)
    host_of = by_host[:nq][first]  # (a port queue belongs to one host queue)
    hosts, counts = np.unique(host_of, return_counts=True)
    single = np.isin(host_of, hosts[counts == 1])
    one_host, one_port = host_of[single], port_queues[single]
    order = np.argsort(one_host)
    one_host, one_port = one_host[order], one_port[order]
    if len(one_host):
        at = np.minimum(np.searchsorted(one_host, e_queue), len(one_host) - 1)
        e_queue = np.where(one_host[at] == e_queue, one_port[at], e_queue)
    e_queue[whole] = -1
    e_recs = errors["record"].to_numpy(dtype=np.int64)
    queues = _queues(
        np.concatenate([with_port[:nq], by_host[:nq]]),
        np.concatenate([np.arange(nq), np.arange(nq)]),
        e_queue,
        e_recs,
        e_when,
        q_rec,
        q_answered,
        q_time,
        limit,
    )
    heads: dict[int, int] = {}

    paired: dict[int, int] = {}
    walk = np.ones(len(errors), dtype=bool)  # the errors the loop below pairs
    if not whole.any() and queues:
        fast = _fifo_queues(
            queues, e_queue, e_recs, e_when, q_rec, q_answered, q_time, limit, q_sent, e_check
        )
        if fast is not None:
            paired, slow = fast
            walk = np.isin(e_queue, np.fromiter(slow, dtype=np.int64, count=len(slow)))
    if not walk.any():
        return paired
    # the rest, one error at a time, on plain lists
    recs: list[int] = q_rec.tolist()
    times: list[int] = q_time.tolist()
    e_times: list[int] = e_when.tolist()
    e_recs_l, e_queue_l = e_recs.tolist(), e_queue.tolist()
    answered: list[int] = q_answered.tolist()
    sent: list[int] = q_sent.tolist()
    checks: list[int] = e_check.tolist()
    taken = bytearray(nq)

    def gone(i: int, e_rec: int, e_time: int) -> bool:
        """Unusable for this error and, errors coming in order, for every later one."""
        return bool(taken[i]) or answered[i] < e_rec or e_time - times[i] > limit

    for at_error in np.flatnonzero(walk).tolist():
        e_rec, e_time = e_recs_l[at_error], e_times[at_error]
        queue_id, key = e_queue_l[at_error], quotes[at_error]
        check = checks[at_error]
        choice = None
        if key is not None:
            candidates = [
                p
                for p in exact.get(key, [])
                if recs[p] < e_rec and sent[p] <= check and not gone(p, e_rec, e_time)
            ]
            choice = candidates[0] if candidates else None
        else:  # the oldest query in its queue that is still waiting
            queue = queues.get(queue_id)
            if queue:
                i, n = heads.get(queue_id, 0), len(queue)
                while i < n and gone(queue[i], e_rec, e_time):
                    i += 1  # (every query leaves the queue once, for good)
                heads[queue_id] = i
                # (a query sent after the error, in inputs out of time order, waits on)
                while (
                    i < n
                    and recs[queue[i]] < e_rec
                    and (sent[queue[i]] > check or gone(queue[i], e_rec, e_time))
                ):
                    i += 1
                if i < n and recs[queue[i]] < e_rec:
                    choice = queue[i]
        if choice is not None:
            paired[recs[choice]] = e_rec
            taken[choice] = 1
    return paired


_NEVER = 1 << 62


def _fifo_queues(
    queues: dict[int, list[int]],
    e_queue: np.ndarray,
    e_rec: np.ndarray,
    e_time: np.ndarray,
    q_rec: np.ndarray,
    q_answered: np.ndarray,
    q_time: np.ndarray,
    limit: int,
    q_sent: np.ndarray,
    e_check: np.ndarray,
) -> tuple[dict[int, int], set[int]] | None:
    """The queue walk of :func:`_pair_icmp` without a loop, where it can be done so: no
    query in two queues (else None). Each queue is matched first in, first out; a queue
    where a pair breaks the rule (the query was answered before the error, or waited
    longer than the window) is returned to be walked one error at a time."""
    ids = np.fromiter(queues.keys(), dtype=np.int64, count=len(queues))
    lists = list(queues.values())
    sizes = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    members = np.fromiter((m for v in lists for m in v), dtype=np.int64, count=int(sizes.sum()))
    if len(np.unique(members)) != len(members):
        return None
    m_queue = np.repeat(ids, sizes)
    e_idx = np.flatnonzero(np.isin(e_queue, ids))
    keys = np.concatenate([m_queue, e_queue[e_idx]])
    recs = np.concatenate([q_rec[members], e_rec[e_idx]])
    w, t = _fifo(keys, recs, len(members))
    mem, err = members[w], e_idx[t]
    ok = (
        (q_answered[mem] >= e_rec[err])
        & (e_time[err] - q_time[mem] <= limit)
        & (q_sent[mem] <= e_check[err])
    )
    slow = set(m_queue[w][~ok].tolist())
    keep = ok & ~np.isin(m_queue[w], np.fromiter(slow, dtype=np.int64, count=len(slow)))
    paired = dict(zip(q_rec[mem[keep]].tolist(), e_rec[err[keep]].tolist(), strict=True))
    return paired, slow


def _queues(
    ids: np.ndarray,
    members: np.ndarray,
    e_queue: np.ndarray,
    e_rec: np.ndarray,
    e_time: np.ndarray,
    rec: np.ndarray,
    answered: np.ndarray,
    time: np.ndarray,
    limit: int,
) -> dict[int, list[int]]:
    """Queue id -> its queries' positions, oldest first, for the queues errors draw from.

    A query is left out of a queue when the first error of that queue after it already
    finds it answered or out of the window: errors come in order, so no later one could
    take it either (this keeps a busy resolver's answered queries out of the loop).
    """
    drawn = np.unique(e_queue[e_queue >= 0])
    slot = pd.Index(drawn).get_indexer(ids)  # the queue's place in ``drawn``, or -1
    inside = slot >= 0
    slot, members = slot[inside], members[inside]
    order = np.lexsort((members, slot))  # by queue, then oldest first
    slot, members = slot[order], members[order]
    if len(slot) == 0:
        return {}
    # the first error of the same queue after each query (errors by queue, then record)
    span = int(max(rec.max(), e_rec.max())) + 2
    e_valid = np.flatnonzero(e_queue >= 0)
    e_key = np.searchsorted(drawn, e_queue[e_valid]) * span + e_rec[e_valid]
    e_order = np.argsort(e_key, kind="stable")
    e_key, e_at = e_key[e_order], e_valid[e_order]
    nxt = np.searchsorted(e_key, slot * span + rec[members], side="right")
    has = nxt < len(e_key)
    has[has] = e_key[nxt[has]] // span == slot[has]
    first = e_at[np.minimum(nxt, len(e_at) - 1)]
    waiting = (answered[members] >= e_rec[first]) & (e_time[first] - time[members] <= limit)
    keep = has & waiting
    slot, listed = slot[keep], members[keep].tolist()
    if len(slot) == 0:
        return {}
    bounds = np.flatnonzero(np.diff(slot)) + 1
    firsts = np.concatenate([[0], bounds]).astype(np.int64).tolist()
    lasts = np.concatenate([bounds, [len(slot)]]).astype(np.int64).tolist()
    keys = drawn[slot[firsts]].tolist()
    return {key: listed[a:b] for key, a, b in zip(keys, firsts, lasts, strict=True)}


#: the query's columns an error quotes when it quotes the whole query (-v), in the order
#: of the error's columns that quote them
_QUOTED = {
    "client": "icmp_orig_src",
    "client_port": "icmp_orig_sport",
    "server": "icmp_orig_dst",
    "server_port": "icmp_orig_dport",
    "dns_id": "icmp_orig_dns_id",
}


def _exact_keys(
    q: pd.DataFrame, errors: pd.DataFrame, whole: np.ndarray
) -> tuple[dict[int, list[int]], np.ndarray]:
    """For the errors that quote a whole query: each error's key (one integer per client,
    ports, server and DNS id; missing values are values of their own), and the positions
    in ``q`` of the queries of each key that such an error quotes, in order."""
    quoted = errors.rename(columns={theirs: mine for mine, theirs in _QUOTED.items()})
    q_codes, e_codes = _key_codes(q, quoted, list(_QUOTED))
    wanted = np.flatnonzero(np.isin(q_codes, e_codes[whole]))
    order = wanted[np.argsort(q_codes[wanted], kind="stable")]
    keys, starts = np.unique(q_codes[order], return_index=True)
    flat, ends = order.tolist(), [*starts[1:].tolist(), len(order)][: len(starts)]
    groups = {k: flat[a:b] for k, a, b in zip(keys.tolist(), starts.tolist(), ends, strict=True)}
    return groups, e_codes


def _ns_array(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Times as int64 nanoseconds, and where they are NaT, whatever the time zone."""
    values = schema.utc_naive(times).to_numpy(dtype="datetime64[ns]")
    return values.view("int64"), np.isnat(values)


def dns_transactions(
    df: pd.DataFrame,
    *,
    retry_window: str | pd.Timedelta = WINDOW,
    reply_window: str | pd.Timedelta = WINDOW,
) -> pd.DataFrame:
    """One row per DNS query sent, with what came of it.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.
    retry_window : str or Timedelta, default "5min"
        The same client asking the same server for the same name and type again within
        this time of its previous query is a retry of the same question (``attempt`` 2,
        3, ...), whatever its DNS id and source port.
    reply_window : str or Timedelta, default "5min"
        The longest time between a query and the answer or ICMP error it pairs with.

    Returns
    -------
    pandas.DataFrame
        ``query_record``, ``query_line``, ``time`` (sent), ``proto``, ``client``,
        ``client_port``, ``server``, ``server_port``, ``dns_id``, ``qname``, ``qtype``,
        ``question`` (numbers the questions), ``attempt`` (1, 2, ... within it),
        ``outcome`` (answered, error, icmp_error or no_response), ``rcode``,
        ``icmp_reason``, ``icmp_sender``, ``answers``, ``addresses`` (the A and AAAA
        addresses answered), ``outcome_record``, ``response_record`` (the response that
        answers it, even when an ICMP error came first), ``outcome_time``, ``latency`` and
        ``records`` (the record numbers of every packet involved).

    Notes
    -----
    A response pairs with the latest earlier query with the same client address and
    port, server address and port, and DNS id; tcpdump prints no name in a response
    without ``-vv``, and none is needed. An ICMP error pairs exactly with the query it
    quotes when ``-v`` shows the quoted query, and otherwise by quoted destination, port
    and time (see ``_pair_icmp``).

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> t = dns_transactions(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"))
    >>> t[["attempt", "outcome"]].values.tolist()
    [[1, 'icmp_error'], [2, 'icmp_error'], [3, 'icmp_error']]
    """
    from .streams import source_streams

    groups = source_streams(df)
    if len(groups) == 1:
        return _transactions(df, retry_window=retry_window, reply_window=reply_window, lists=True)
    # inputs read together that are other sensors' (they overlap in time): each stream's
    # queries pair within it; questions are numbered across all, by their first query
    parts = []
    for k, rows in enumerate(groups):
        tx = _transactions(
            df.loc[rows], retry_window=retry_window, reply_window=reply_window, lists=True
        )
        parts.append(tx.assign(question=tx["question"] + (k << 40)))
    parts = [p for p in parts if len(p)] or parts[:1]  # (an empty part's dtypes are vaguer)
    out = pd.concat(parts, ignore_index=True).sort_values("query_record", ignore_index=True)
    first = out.groupby("question")["query_record"].transform("min")
    out["question"] = first.rank(method="dense").astype("int64")
    return out


def _transactions(
    df: pd.DataFrame,
    *,
    retry_window: str | pd.Timedelta = WINDOW,
    reply_window: str | pd.Timedelta = WINDOW,
    lists: bool,
) -> pd.DataFrame:
    """:func:`dns_transactions`; without ``lists`` there are no ``answers``,
    ``addresses`` and ``records`` columns (a list per row costs more than the rest of a
    row) and ``outcome`` is a category (its codes are what the evidence counts)."""
    retry = pd.Timedelta(retry_window)
    reply = pd.Timedelta(reply_window)
    q = _queries(df).sort_values("query_record").reset_index(drop=True)
    r = _responses(df)
    resp = _answered_by(q, _pair_responses(q, r, reply))
    by_tcp = _tcp_replies(q, df, resp, reply)
    resp = np.where(resp >= 0, resp, by_tcp)
    icmp_at = _pair_icmp(q, df, resp, reply)

    out = q.copy()
    out["question"], out["attempt"] = _attempts(q, retry)
    where = _positions(df["record"])
    recs = out["query_record"].to_numpy()
    err = _lookup(icmp_at, recs)
    use_resp = (resp >= 0) & ((err < 0) | (resp < err))
    use_err = (err >= 0) & ~use_resp
    outcome = np.where(use_resp, resp, np.where(use_err, err, -1))

    def at(column: str, records: np.ndarray, use: np.ndarray) -> pd.Series:
        """``df[column]`` at the rows of ``records`` where ``use``, else missing."""
        pos = np.where(use, where(records), -1)
        return pd.Series(df[column].array.take(pos, allow_fill=True), index=out.index)

    rcode = at("dns_rcode", resp, use_resp).astype("string")
    # a reply over TCP whose DNS the reader could not read is an answer of unknown rcode
    said = (rcode == "NoError").fillna(False).to_numpy(dtype=bool)
    answered = use_resp & (said | (by_tcp >= 0))
    kind = np.select([answered, use_resp, use_err], [0, 1, 2], default=3).astype(np.int8)
    outcomes = pd.Categorical.from_codes(kind, dtype=pd.CategoricalDtype(list(OUTCOMES)))
    out["outcome"] = np.asarray(outcomes, dtype=object) if lists else outcomes
    out["rcode"] = rcode
    out["icmp_reason"] = at("icmp_reason", err, use_err).astype("string")
    out["icmp_sender"] = at("src", err, use_err).astype("string")
    if lists:
        out["answers"] = at("dns_answers", resp, use_resp).astype("string")
        with _no_gc():
            out["addresses"] = _addresses(out["answers"])
    out["outcome_record"] = pd.arrays.IntegerArray(np.where(outcome >= 0, outcome, 0), outcome < 0)
    out["response_record"] = pd.arrays.IntegerArray(np.where(resp >= 0, resp, 0), resp < 0)
    out["outcome_time"] = at("time", outcome, outcome >= 0)
    out["latency"] = out["outcome_time"] - out["time"]
    if lists:
        with _no_gc():
            out["records"] = [
                [a] if b < 0 else [a, b]
                for a, b in zip(recs.tolist(), outcome.tolist(), strict=True)
            ]
    return out


#: the ports the readers read DNS over TCP on (tcpdump's: 53; a capture's: 53 and 5353)
_TCP_DNS_PORTS: Final = (53, 5353)


def undecoded_tcp(df: pd.DataFrame) -> np.ndarray:
    """Where ``df`` has a TCP segment with data from a DNS port that carries no DNS
    message the reader could read: among them the replies of a DNS server whose message
    spans segments (tcpdump prints ``[prefix length(3010) != length(1206)] (invalid)``
    for each, and no DNS; a capture's later segments of a message, see
    :mod:`incidentkit.parse._tcpdns`)."""
    out = ((df["proto"] == "tcp") & df["dns_qr"].isna()).to_numpy(dtype=bool, copy=True)
    rows = np.flatnonzero(out)
    # (Series.isin() of a UInt16 column is 20 times slower)
    sport = df["sport"].array.take(rows).to_numpy(dtype=np.int32, na_value=-1)
    size = df["length"].array.take(rows).to_numpy(dtype=np.int64, na_value=0)
    out[rows] = np.isin(sport, _TCP_DNS_PORTS) & (size > 0)
    return out


def pairable(df: pd.DataFrame) -> np.ndarray:
    """Where ``df`` has a row a query can pair with or be: a DNS message, an ICMP error,
    or a TCP segment of :func:`undecoded_tcp` (what the evidence keeps for its seams)."""
    return (df["dns_qr"].notna() | is_error(df)).to_numpy(dtype=bool) | undecoded_tcp(df)


def _tcp_replies(
    q: pd.DataFrame, df: pd.DataFrame, resp: np.ndarray, window: pd.Timedelta
) -> np.ndarray:
    """Per query of ``q``: the record of the TCP segment that answers it when no DNS
    response does (-1 for none).

    A query over TCP that no response pairs with is answered by the first segment with
    data that its server sends back on the connection (same addresses and ports) after
    it, within ``window``, when that segment carries no DNS message the reader could read:
    the answer spans segments and tcpdump printed none of it. Each segment answers one
    query, the oldest waiting on its connection (first in, first out, as responses pair).
    """
    out = np.full(len(q), -1, dtype=np.int64)
    waiting = np.flatnonzero((resp < 0) & (np.asarray(q["proto"], dtype=object) == "tcp"))
    segments = undecoded_tcp(df)
    if len(waiting) == 0 or not segments.any():
        return out
    w = q.iloc[waiting]
    seg = df.loc[segments, ["record", "time", "src", "sport", "dst", "dport"]].rename(
        columns={"dst": "client", "dport": "client_port", "src": "server", "sport": "server_port"}
    )
    keys = np.concatenate(_key_codes(w, seg, _KEY[:4]))  # (the connection)
    recs = np.concatenate(
        [w["query_record"].to_numpy(dtype=np.int64), seg["record"].to_numpy(dtype=np.int64)]
    )
    w_at, s_at = _fifo(keys, recs, len(w))
    delta = seg["time"].to_numpy()[s_at] - w["time"].to_numpy()[w_at]
    ok = _within(pd.Series(delta), window)
    out[waiting[w_at[ok]]] = recs[len(w) + s_at[ok]]
    return out


def _addresses(answers: pd.Series) -> list[list[str]]:
    """The A and AAAA addresses of each answer text ([] for none).

    Worked out once per distinct text (a busy resolver gives the same answers again and
    again); each row gets a list of its own.
    """
    codes, texts = pd.factorize(answers)
    found = [_ADDRESS_RE.findall(text) for text in texts]
    found.append([])  # (a missing text: code -1)
    return [list(found[c]) for c in codes.tolist()]


def _positions(records: pd.Series) -> Callable[[np.ndarray], np.ndarray]:
    """A function from record numbers to their rows' positions (-1 for none): arithmetic
    when the records are consecutive, as the readers number them, else an index."""
    values = records.to_numpy(dtype=np.int64)
    if len(values) and np.array_equal(values, np.arange(values[0], values[0] + len(values))):
        first, n = int(values[0]), len(values)

        def arithmetic(wanted: np.ndarray) -> np.ndarray:
            pos = np.asarray(wanted, dtype=np.int64) - first
            return np.where((pos >= 0) & (pos < n), pos, -1)

        return arithmetic
    return pd.Index(values).get_indexer


def _answered_by(q: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """The record of the response that answers each query of ``q`` (in record order), -1
    for none."""
    q_rec = q["query_record"].to_numpy(dtype=np.int64)
    out = np.full(len(q_rec), -1, dtype=np.int64)
    at = np.searchsorted(q_rec, pairs["query_record"].to_numpy(dtype=np.int64))
    out[at] = pairs["response_record"].to_numpy(dtype=np.int64)
    return out


def _lookup(pairs: dict[int, int], records: np.ndarray) -> np.ndarray:
    """``pairs[record]`` for each record, -1 where it has none."""
    keys = np.fromiter(pairs.keys(), dtype=np.int64, count=len(pairs))
    values = np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs))
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    at = np.minimum(np.searchsorted(keys, records), max(len(keys) - 1, 0))
    found = (keys[at] == records) if len(keys) else np.zeros(len(records), dtype=bool)
    return np.where(found, values[at] if len(keys) else -1, -1)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Build many small lists without the cycle collector walking them all, again and
    again (none of them can be part of a cycle)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _attempts(q: pd.DataFrame, window: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """Question and attempt numbers: the same client, server, name and type, each query
    within ``window`` of the one before, is one question; questions are numbered in the
    order their first query was sent."""
    n = len(q)
    if n == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    code = _combined([q[column] for column in ("client", "server", "qname", "qtype")])
    order = np.lexsort((np.arange(n), code))  # by question key, then as sent
    key = code[order]
    ns, nat = (a[order] for a in _ns_array(q["time"]))
    same = np.zeros(n, dtype=bool)
    same[1:] = key[1:] == key[:-1]
    late = np.zeros(n, dtype=bool)
    late[1:] = ~nat[1:] & ~nat[:-1] & (ns[1:] - ns[:-1] > window.value)
    new = ~same | late
    question = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    attempt = np.arange(n) - starts[question] + 1
    # number questions in the order their first query was sent
    ranks = np.empty(len(starts), dtype=np.int64)
    ranks[np.argsort(order[starts], kind="stable")] = np.arange(1, len(starts) + 1)
    q_out = np.empty(n, dtype=np.int64)
    a_out = np.empty(n, dtype=np.int64)
    q_out[order] = ranks[question]
    a_out[order] = attempt
    return q_out, a_out
