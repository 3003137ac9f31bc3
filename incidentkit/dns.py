"""DNS transactions: each query paired with its answer, its ICMP error, or silence."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

import numpy as np
import pandas as pd

from .icmp import is_error

#: Outcomes of a query, in the order the report lists them.
OUTCOMES: Final = ("answered", "error", "icmp_error", "no_response")

#: A query and the response that answers it share these, seen from the client.
_KEY: Final = ["client", "client_port", "server", "server_port", "dns_id"]
_ADDRESS: Final = r"(?:^|[\s,])(?:A|AAAA) ([0-9A-Fa-f:.]+)(?=,|\s|$)"


def _queries(df: pd.DataFrame) -> pd.DataFrame:
    q = df.loc[df["dns_qr"] == "query"]
    return pd.DataFrame(
        {
            "query_record": q["record"].to_numpy(),
            "query_line": q["line"].to_numpy(),
            "time": q["time"].array,
            "proto": q["proto"].astype(str).to_numpy(),
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
    r = df.loc[df["dns_qr"] == "response"]
    return pd.DataFrame(
        {
            "response_record": r["record"].to_numpy(),
            "response_time": r["time"].array,
            "client": r["dst"].array,
            "client_port": r["dport"].array,
            "server": r["src"].array,
            "server_port": r["sport"].array,
            "dns_id": r["dns_id"].array,
            "rcode": r["dns_rcode"].array,
            "answers": r["dns_answers"].array,
        }
    )


def _within(delta: pd.Series, window: pd.Timedelta) -> np.ndarray:
    """True where ``delta`` (outcome minus query time) is in [0, window] or unknown."""
    d = pd.to_timedelta(delta)
    return (d.isna() | ((d >= pd.Timedelta(0)) & (d <= window))).to_numpy()


def _pair_responses(q: pd.DataFrame, r: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Each response answers the latest earlier query with its key; one response each."""
    if len(q) == 0 or len(r) == 0:
        return pd.DataFrame(columns=["query_record", "response_record"])
    left = r.assign(_k=_key_strings(r)).sort_values("response_record")
    right = q.assign(_k=_key_strings(q))[["_k", "query_record", "time"]]
    right = right.sort_values("query_record")
    merged = pd.merge_asof(
        left,
        right,
        left_on="response_record",
        right_on="query_record",
        by="_k",
        direction="backward",
    )
    merged = merged.dropna(subset=["query_record"])
    merged = merged.loc[_within(merged["response_time"] - merged["time"], window)]
    # a query answered twice keeps its first answer
    merged = merged.drop_duplicates("query_record", keep="first")
    return merged[["query_record", "response_record"]].astype("int64")


def _key_strings(frame: pd.DataFrame) -> pd.Series:
    parts = [frame[c].astype("string").fillna("") for c in _KEY]
    out = parts[0]
    for part in parts[1:]:
        out = out + "|" + part
    return out


def _pair_icmp(
    q: pd.DataFrame, df: pd.DataFrame, answered_at: dict[int, int], window: pd.Timedelta
) -> dict[int, int]:
    """query record -> ICMP error record.

    An error that quotes the whole query (-v: source port and DNS id) pairs exactly.
    Otherwise it pairs with the oldest query to the quoted destination (and port, when
    quoted) from the host it was sent to, sent before it, not yet answered or paired:
    a router that held queries while it looked for the server answers them in order.
    """
    errors = df.loc[is_error(df) & df["icmp_orig_dst"].notna()]
    if len(errors) == 0 or len(q) == 0:
        return {}
    times = dict(zip(q["query_record"], q["time"], strict=True))
    exact_index: dict[tuple[object, ...], list[int]] = defaultdict(list)
    loose_index: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for rec, client, cport, server, sport, qid in zip(
        q["query_record"],
        q["client"],
        q["client_port"],
        q["server"],
        q["server_port"],
        q["dns_id"],
        strict=True,
    ):
        exact_index[(client, cport, server, sport, qid)].append(int(rec))
        loose_index[(client, server, sport)].append(int(rec))
        loose_index[(client, server, None)].append(int(rec))
    heads: dict[tuple[object, ...], int] = {}
    paired: dict[int, int] = {}
    taken: set[int] = set()

    def gone(rec: int, e_rec: int, e_time: Any) -> bool:
        """Unusable for this error and, errors coming in order, for every later one."""
        if rec in taken or (rec in answered_at and answered_at[rec] < e_rec):
            return True
        delta = e_time - times[rec]
        return bool(not pd.isna(delta) and delta > window)

    def oldest(key: tuple[object, ...], e_rec: int, e_time: Any) -> int | None:
        recs = loose_index.get(key)
        if not recs:
            return None
        i = heads.get(key, 0)
        while i < len(recs) and gone(recs[i], e_rec, e_time):
            i += 1  # dropped for good: the queue only moves forward
        heads[key] = i
        for rec in recs[i:]:
            if rec >= e_rec:
                return None
            if not gone(rec, e_rec, e_time):
                return rec
        return None

    err: Any
    for err in errors.itertuples(index=False):
        e_rec, e_time = int(err.record), err.time
        choice = None
        if pd.notna(err.icmp_orig_src) and pd.notna(err.icmp_orig_dns_id):
            key = (
                err.icmp_orig_src,
                err.icmp_orig_sport,
                err.icmp_orig_dst,
                err.icmp_orig_dport,
                err.icmp_orig_dns_id,
            )
            candidates = [
                rec
                for rec in exact_index.get(key, [])
                if rec < e_rec and not gone(rec, e_rec, e_time)
            ]
            choice = candidates[-1] if candidates else None
        else:
            port = None if pd.isna(err.icmp_orig_dport) else err.icmp_orig_dport
            choice = oldest((err.dst, err.icmp_orig_dst, port), e_rec, e_time)
        if choice is not None:
            paired[choice] = e_rec
            taken.add(choice)
    return paired


def dns_transactions(
    df: pd.DataFrame,
    *,
    retry_window: str | pd.Timedelta = "5min",
    reply_window: str | pd.Timedelta = "5min",
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
        addresses answered), ``outcome_record``, ``outcome_time``, ``latency`` and
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
    retry = pd.Timedelta(retry_window)
    reply = pd.Timedelta(reply_window)
    q = _queries(df).sort_values("query_record").reset_index(drop=True)
    r = _responses(df)
    pairs = _pair_responses(q, r, reply)
    answered_at = dict(zip(pairs["query_record"], pairs["response_record"], strict=True))
    icmp_at = _pair_icmp(q, df, answered_at, reply)

    by_record = df.set_index("record")
    out = q.copy()
    out["question"], out["attempt"] = _attempts(q, retry)
    resp = out["query_record"].map(answered_at)
    err = out["query_record"].map(icmp_at)
    use_resp = resp.notna() & (err.isna() | (resp < err))
    use_err = err.notna() & ~use_resp
    outcome_record = resp.where(use_resp, err.where(use_err))
    rcode = resp.map(by_record["dns_rcode"]).where(use_resp)
    out["outcome"] = np.select(
        [use_resp & (rcode == "NoError"), use_resp, use_err],
        ["answered", "error", "icmp_error"],
        default="no_response",
    )
    out["rcode"] = rcode.astype("string")
    out["icmp_reason"] = err.map(by_record["icmp_reason"]).where(use_err).astype("string")
    out["icmp_sender"] = err.map(by_record["src"]).where(use_err).astype("string")
    out["answers"] = resp.map(by_record["dns_answers"]).where(use_resp).astype("string")
    out["addresses"] = (
        out["answers"].str.findall(_ADDRESS).map(lambda v: v if isinstance(v, list) else [])
    )
    out["outcome_record"] = outcome_record.astype("Int64")
    positions = pd.Index(df["record"]).get_indexer(outcome_record.fillna(-1).astype("int64"))
    out["outcome_time"] = pd.Series(
        df["time"].array.take(positions, allow_fill=True), index=out.index
    )
    out["latency"] = out["outcome_time"] - out["time"]
    out["records"] = [
        [int(a)] if pd.isna(b) else [int(a), int(b)]
        for a, b in zip(out["query_record"], out["outcome_record"], strict=True)
    ]
    return out


def _attempts(q: pd.DataFrame, window: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    if len(q) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    keys = ["client", "server", "qname", "qtype"]
    frame = q[keys].astype("string").fillna("")
    frame["time"] = q["time"]
    frame["order"] = np.arange(len(q))
    frame = frame.sort_values([*keys, "order"])
    gap = frame.groupby(keys, sort=False)["time"].diff()
    new = ~frame.duplicated(keys) | (gap > window).to_numpy()
    question = new.cumsum().to_numpy()
    attempt = frame.groupby(question).cumcount().to_numpy() + 1
    first_order = pd.Series(frame["order"].to_numpy()).groupby(question).transform("min")
    # number questions in the order their first query was sent
    ranks = pd.Series(first_order.to_numpy()).rank(method="dense").astype(int).to_numpy()
    q_out = np.empty(len(q), dtype=np.int64)
    a_out = np.empty(len(q), dtype=np.int64)
    q_out[frame["order"].to_numpy()] = ranks
    a_out[frame["order"].to_numpy()] = attempt
    return q_out, a_out
