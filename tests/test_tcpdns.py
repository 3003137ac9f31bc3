"""DNS over TCP in a capture: a message that takes several segments is read where it
begins, and the segments that carry the rest of it make up no query or response.

The connections are built byte by byte (pcapgen) and rendered by the real tcpdump, which
prints ``[prefix length(N) != length(M)] (invalid)`` for every segment of a message that
spans segments and decodes none of them."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pandas as pd
import pytest
from pcapgen import dns_query, ether, ipv4, ipv6, pcap, render, tcp

import incidentkit as ik

CLIENT, SERVER = "198.51.100.10", "203.0.113.53"
CLIENT6, SERVER6 = "2001:db8:1::10", "2001:db8:2::53"
PORT = 43325
SYN, SYN_ACK, ACK, PSH_ACK = 0x02, 0x12, 0x10, 0x18
C_ISN, S_ISN = 1_442_246_646, 4_294_967_000  # (the server's wraps past 2**32)


def big_answer(ident: int, name: str, records: int = 12) -> bytes:
    """A response of ``records`` TXT records of 240 bytes each (about 3 kB)."""
    query = dns_query(ident, name, qtype=16)
    head = struct.pack("!HHHHHH", ident, 0x8580, 1, records, 0, 0)
    txt = bytes([239]) + b"x" * 239
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, len(txt)) + txt
    return head + query[12:] + rr * records


def framed(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[k : k + size] for k in range(0, len(data), size)]


class Connection:
    """The packets of one TCP connection from CLIENT to SERVER port 53."""

    def __init__(self, family: int = 4) -> None:
        self.addr = (CLIENT, SERVER) if family == 4 else (CLIENT6, SERVER6)
        self.family = family
        self.seq = {"c": C_ISN, "s": S_ISN}
        self.frames: list[bytes] = []

    def send(self, who: str, payload: bytes = b"", flags: int = PSH_ACK) -> int:
        """Send a segment; return its frame number."""
        c, s = self.addr
        src, dst, sport, dport = (c, s, PORT, 53) if who == "c" else (s, c, 53, PORT)
        other = self.seq["s" if who == "c" else "c"]
        seg = tcp(src, dst, sport, dport, self.seq[who] % 2**32, other % 2**32, flags, payload)
        if self.family == 4:
            self.frames.append(ether(ipv4(src, dst, 6, seg)))
        else:
            self.frames.append(ether(ipv6(src, dst, 6, seg), ethertype=0x86DD))
        self.seq[who] += len(payload) + (1 if flags & SYN else 0)
        return len(self.frames)

    def again(self, frame: int) -> int:
        """Send frame ``frame`` once more (a retransmission)."""
        self.frames.append(self.frames[frame - 1])
        return len(self.frames)

    def handshake(self) -> None:
        self.send("c", flags=SYN)
        self.send("s", flags=SYN_ACK)
        self.send("c", flags=ACK)


def read(conn: Connection, tmp_path: Path, engine: str = "c") -> pd.DataFrame:
    path = tmp_path / "tcp.pcap"
    path.write_bytes(pcap(conn.frames))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        return ik.read_pcap(path, engine=engine).set_index("packet")


def dns_rows(df: pd.DataFrame) -> list[tuple[int, str, int]]:
    got = df[df["dns_qr"].notna()]
    return [(int(k), str(r.dns_qr), int(r.dns_id)) for k, r in got.iterrows()]


@pytest.mark.parametrize("family", [4, 6])
def test_an_answer_in_three_segments_is_one_response_where_it_begins(family, tmp_path):
    conn = Connection(family)
    conn.handshake()
    query = conn.send("c", framed(dns_query(20142, "huge.example.test", qtype=16)))
    answer = big_answer(20142, "huge.example.test")
    parts = cut(framed(answer), 1208)
    assert len(parts) == 3
    first, *rest = [conn.send("s", part) for part in parts]
    df = read(conn, tmp_path)
    assert dns_rows(df) == [(query, "query", 20142), (first, "response", 20142)]
    row = df.loc[first]
    assert (row["dns_rcode"], row["dns_ancount"]) == ("NoError", 12)
    assert (
        row["error"] == f"DNS: the length prefix says {len(answer)} bytes, the segment holds 1206"
    )
    for frame in rest:  # no query made up from TXT bytes
        assert df.loc[frame, "error"] == (
            f"DNS: the segment continues the DNS message that frame {first} begins"
        )
        assert df.loc[frame, ["dns_id", "dns_qname", "dns_rcode"]].isna().all()
    # tcpdump decodes none of the three segments
    text = render(pcap(conn.frames), tmp_path / "r.pcap", "-nn", "-S")
    assert text.count("[prefix length(") == 3
    pd.testing.assert_frame_equal(df, read(conn, tmp_path, engine="python"))
    # the query was answered: no firewall, no silence
    d = ik.diagnose(df.reset_index())
    assert d.cause == "none"
    tx = ik.dns_transactions(df.reset_index())
    assert tx["outcome"].tolist() == ["answered"]
    assert int(tx["response_record"].iloc[0]) == first


def test_a_capture_begun_inside_a_connection_makes_up_no_message(tmp_path):
    """Without the SYN, where messages begin is not known: only a segment that holds one
    whole message is read as one."""
    conn = Connection()
    conn.handshake()
    conn.send("c", framed(dns_query(7, "a.example.test")))
    parts = cut(framed(big_answer(7, "a.example.test")), 1000)
    for part in parts:
        conn.send("s", part)
    small = conn.send("c", framed(dns_query(8, "b.example.test")))
    conn.frames = conn.frames[4:]  # (the capture starts with the answer)
    df = read(conn, tmp_path)
    assert dns_rows(df) == [(small - 4, "query", 8)]
    assert df.loc[1, "error"] == "DNS: no DNS message is known to begin at this segment"
    pd.testing.assert_frame_equal(df, read(conn, tmp_path, engine="python"))


def test_a_segment_sent_again_begins_its_message_again(tmp_path):
    conn = Connection()
    conn.handshake()
    query = conn.send("c", framed(dns_query(9, "c.example.test", qtype=16)))
    first, second = [
        conn.send("s", part) for part in cut(framed(big_answer(9, "c.example.test")), 2000)
    ]
    again = conn.again(first)
    tail = conn.again(second)
    df = read(conn, tmp_path)
    assert dns_rows(df) == [(query, "query", 9), (first, "response", 9), (again, "response", 9)]
    assert df.loc[tail, "error"].endswith(f"frame {again} begins")
    # the second copy answers nothing more
    tx = ik.dns_transactions(df.reset_index())
    assert tx["outcome"].tolist() == ["answered"]


def test_messages_one_after_another_and_two_in_one_segment(tmp_path):
    """Queries on one connection (RFC 7766 pipelining): each whole message in a segment
    is read; a segment that holds two is read for its first, and the places are known
    again at the next segment that holds one whole message."""
    conn = Connection()
    conn.handshake()
    one = conn.send("c", framed(dns_query(1, "one.example.test")))
    two = conn.send("c", framed(dns_query(2, "two.example.test")) + framed(dns_query(3, "x.test")))
    four = conn.send("c", framed(dns_query(4, "four.example.test")))
    reply = conn.send("s", framed(big_answer(1, "one.example.test", records=1)))
    df = read(conn, tmp_path)
    assert dns_rows(df) == [
        (one, "query", 1),
        (two, "query", 2),
        (four, "query", 4),
        (reply, "response", 1),
    ]
    assert "the length prefix says" in df.loc[two, "error"]


def test_a_length_sent_in_a_segment_of_its_own(tmp_path):
    """Some servers write the two-byte length and the message in two writes: the message's
    segment begins with its DNS id, not a length, and is read as no message."""
    conn = Connection()
    conn.handshake()
    conn.send("c", framed(dns_query(5, "d.example.test")))
    answer = big_answer(5, "d.example.test", records=1)
    conn.send("s", struct.pack("!H", len(answer)))
    body = conn.send("s", answer)
    df = read(conn, tmp_path)
    assert [kind for _, kind, _ in dns_rows(df)] == ["query"]
    assert df.loc[body, "error"] == "DNS: no DNS message is known to begin at this segment"


def text_of(conn: Connection, tmp_path: Path) -> pd.DataFrame:
    """tcpdump's -nn -tttt rendering of the connection, read by the text reader."""
    text = render(pcap(conn.frames), tmp_path / "t.pcap", "-nn", "-tttt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        return ik.parse_tcpdump(text)


def spanning(family: int = 4) -> tuple[Connection, int, int]:
    """A connection whose answer takes three segments; (it, the query's frame, the frame
    of the answer's first segment)."""
    conn = Connection(family)
    conn.handshake()
    query = conn.send("c", framed(dns_query(20142, "huge.example.test", qtype=16)))
    conn.send("s", flags=ACK)
    first, *_ = [conn.send("s", part) for part in cut(framed(big_answer(20142, "x.test")), 1208)]
    conn.send("c", flags=ACK)
    return conn, query, first


@pytest.mark.parametrize("family", [4, 6])
def test_a_text_log_of_an_answer_tcpdump_could_not_print_is_answered(family, tmp_path):
    """tcpdump prints no DNS for any segment of an answer that spans segments: the query
    is answered by the first segment with data its server sends back on the connection,
    with no rcode, and no cause is found."""
    conn, query, first = spanning(family)
    df = text_of(conn, tmp_path)
    assert df["dns_qr"].tolist().count("response") == 0  # (tcpdump printed none)
    tx = ik.dns_transactions(df)
    assert tx["outcome"].tolist() == ["answered"]
    assert (int(tx["query_line"].iloc[0]), int(tx["response_record"].iloc[0])) == (query, first)
    assert pd.isna(tx["rcode"].iloc[0])
    d = ik.diagnose(df)
    assert d.cause == "none"
    said = str(ik.Story(df, d, tx).protocol())
    assert said.startswith("<p>No query failed; the traffic is <b>DNS</b> carried over <b>TCP</b>")
    # the evidence of two parts, cut anywhere, adds up to the whole's
    whole = ik.diagnose(df).to_dict()
    for k in range(len(df) + 1):
        parts = ik.evidence(df.iloc[:k]) + ik.evidence(df.iloc[k:])
        assert ik.diagnose(parts).to_dict() == whole, k


def test_a_server_that_only_acknowledges_did_not_answer(tmp_path):
    """A segment with no data (an acknowledgement) answers nothing: the query over TCP
    that got only that is unanswered in both readers."""
    conn = Connection()
    conn.handshake()
    conn.send("c", framed(dns_query(11, "quiet.example.test")))
    conn.send("s", flags=ACK)
    for df in (read(conn, tmp_path).reset_index(), text_of(conn, tmp_path)):
        assert ik.dns_transactions(df)["outcome"].tolist() == ["no_response"]
