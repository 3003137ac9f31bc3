"""incidentkit.dask on a real dask.distributed cluster: two worker processes on
127.0.0.1, started here and stopped here.

The single-machine functions on all the inputs read as one frame (``ik.read(paths)``)
are the oracle: the scenario library's logs and captures cut at random records, into
files and into blocks, give the same rows, transactions and diagnosis."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import random
import shutil
import subprocess
import warnings
from pathlib import Path

import distributed
import pandas as pd
import psutil
import pytest
from conftest import pcap_path, rendering_path, scenario_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentkit as ik
import incidentkit.dask as ikd
from incidentkit import schema
from incidentkit.cli import main

MANIFEST = scenario_manifest()
SITE = "yummyrecipesforme.com"
EXPECTED_ADDRESS = "203.0.113.80"
SCENARIOS = [row["scenario"] for row in MANIFEST]


@pytest.fixture(scope="module")
def client():
    cluster = ikd.local_cluster(2)
    c = distributed.Client(cluster)
    pids = list(c.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    yield c
    c.close()
    cluster.close()
    _, alive = psutil.wait_procs([_proc(p) for p in pids if _proc(p)], timeout=10)
    assert not alive, f"worker processes left behind: {alive}"


def _proc(pid):
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def _text(scenario: str) -> bytes:
    path = rendering_path(scenario, "nn-tttt")
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _split(data: bytes, parts: int, rng: random.Random, out: Path, stem: str) -> list[Path]:
    """``data`` (a -tttt log) cut into ``parts`` files before random record lines."""
    lines = data.split(b"\n")
    starts = [i for i, line in enumerate(lines) if line[:1].isdigit()]
    cuts = sorted(rng.sample(starts[1:], min(parts - 1, len(starts) - 1)))
    files = []
    for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(lines)], strict=True)):
        path = out / f"{stem}.{k}.txt"
        path.write_bytes(b"\n".join(lines[a:b]) + (b"\n" if b < len(lines) else b""))
        files.append(path)
    return files


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        return fn(*args, **kwargs)


def _same_everything(files, client, blocksize, **opts):
    """The Dask frame, transactions and diagnosis equal the single machine's."""
    whole = _quiet(ik.read, [str(f) for f in files])
    rows = _quiet(ikd.read(files, blocksize=blocksize).compute).reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, whole)
    window = opts.pop("window", "5min")
    kw = {"retry_window": window, "reply_window": window}
    tx = ikd.dns_transactions(files, blocksize=blocksize, **kw).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(tx, ik.dns_transactions(whole, **kw))
    d = _quiet(ikd.diagnose, files, blocksize=blocksize, **opts, **kw)
    expected = ik.diagnose(whole, **opts, **kw)
    assert d.to_dict() == expected.to_dict()
    return d, whole


def test_a_frame_of_read_gives_the_same_answers(client, tmp_path):
    files = _split(_text("service_down"), 3, random.Random(5), tmp_path, "r")
    frame = ikd.read(files, blocksize=max(f.stat().st_size for f in files) // 2 + 1)
    assert frame.npartitions > 3
    whole = ik.read([str(f) for f in files])
    kw = {"retry_window": "2s", "reply_window": "2s"}
    assert ikd.diagnose(frame, **kw).to_dict() == ik.diagnose(whole, **kw).to_dict()
    tx = ikd.dns_transactions(frame, **kw).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(tx, ik.dns_transactions(whole, **kw))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_scenario_cut_into_files_and_blocks_gives_the_same_answers(scenario, client, tmp_path):
    rng = random.Random(scenario)
    data = _text(scenario)
    files = _split(data, 2, rng, tmp_path, scenario)
    row = next(r for r in MANIFEST if r["scenario"] == scenario)
    # the larger captures in blocks too: about half the larger file (the short parts of
    # small ones are the generated logs' to cut)
    blocksize = None
    if int(row["packets"]) > 100:
        blocksize = max(f.stat().st_size for f in files) // 2 + 1
        assert len(ikd.plan(files, blocksize)) > len(files)
    opts = {"domain": SITE, "expected_address": EXPECTED_ADDRESS}
    d, whole = _same_everything(files, client, blocksize, **opts)
    assert d.cause == row["expected_cause"]
    assert len(whole) == int(row["packets"])
    sources = d.facts["sources"]
    assert [s["source"] for s in sources] == [str(f) for f in files]
    assert sum(s["packets"] for s in sources) == int(row["packets"])


def test_blocks_start_on_records_and_hold_every_line(tmp_path):
    data = _text("retry_storm")
    path = tmp_path / "log.txt"
    # -v style continuation lines: a block never starts on one
    lines = data.split(b"\n")
    verbose = b"\n".join(
        line + b"\n    (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto UDP (17))"
        if line[:1].isdigit()
        else line
        for line in lines
    )
    path.write_bytes(verbose)
    parts = ikd.plan([path], 300)
    assert len(parts) > 3
    assert parts[0].start == 0 and parts[-1].stop == path.stat().st_size
    for a, b in itertools.pairwise(parts):
        assert a.stop == b.start
        assert verbose[b.start - 1 : b.start] == b"\n"
        assert verbose[b.start : b.start + 4].isdigit()


def test_logs_without_dates_are_one_partition_each(tmp_path):
    for style in ("n", "default"):
        path = tmp_path / f"{style}.txt"
        path.write_bytes(rendering_path("service_down", style).read_bytes())
        assert len(ikd.plan([path], 64)) == 1, style


def test_pcap_and_text_inputs_mixed(client, tmp_path):
    pcap = pcap_path("firewall_reject")
    assert pcap.suffix == ".pcap"
    editcap = shutil.which("editcap")
    if editcap is None:
        pytest.fail("editcap is not installed: .ci/run installs it (wireshark-common)")
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    subprocess.run([editcap, "-r", pcap, first, "1-9"], check=True, timeout=60)
    subprocess.run([editcap, pcap, second, "1-9"], check=True, timeout=60)
    text = tmp_path / "b.txt"
    rendered = subprocess.run(
        ["tcpdump", "-nn", "-tttt", "-r", str(second)],
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    ).stdout
    text.write_bytes(rendered)
    d, whole = _same_everything([first, text], client, 256)
    assert d.cause == "firewall"
    assert whole["packet"].notna().sum() == 9  # the capture's frames
    assert whole["line"].notna().sum() == len(whole) - 9
    assert d.to_dict()["cause"] == ik.diagnose(ik.read(pcap)).cause


def _stamp(t: float) -> str:
    whole, micro = divmod(round(t * 1e6), 1_000_000)
    return f"2026-11-24 10:{whole // 60 % 60:02d}:{whole % 60:02d}.{micro:06d}"


def _query(t, client, port, qid, name="www.example.com"):
    return f"{_stamp(t)} IP {client}.{port} > 203.0.113.2.53: {qid}+ A? {name}. (33)"


def _answer(t, client, port, qid):
    return f"{_stamp(t)} IP 203.0.113.2.53 > {client}.{port}: {qid}* 1/0/0 A 203.0.113.80 (49)"


def _unreach(t, client):
    error = "ICMP 203.0.113.2 udp port 53 unreachable, length 61"
    return f"{_stamp(t)} IP 203.0.113.2 > {client}: {error}"


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["query", "query", "answer", "unreach"]),
        st.sampled_from(["198.51.100.15", "198.51.100.16"]),
        st.integers(0, 2),  # client port offset
        st.integers(1, 3),  # DNS id
        st.sampled_from(["a.example.com", "b.example.com"]),
        st.floats(0.01, 2.5),  # seconds since the previous packet
    ),
    min_size=2,
    max_size=80,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(EVENTS, st.integers(1, 3), st.integers(0, 2**16), st.sampled_from([None, 400, 1500]))
def test_generated_logs_cut_anywhere_give_the_same_answers(
    client, tmp_path_factory, events, parts, seed, blocksize
):
    lines, t = [], 0.0
    for kind, who, port, qid, name, gap in events:
        t += gap
        if kind == "query":
            lines.append(_query(t, who, 40000 + port, qid, name))
        elif kind == "answer":
            lines.append(_answer(t, who, 40000 + port, qid))
        else:
            lines.append(_unreach(t, who))
    out = tmp_path_factory.mktemp("generated")
    files = _split(("\n".join(lines) + "\n").encode(), parts, random.Random(seed), out, "g")
    # 3 s windows: questions asked again and again run on across the cuts
    _same_everything(files, client, blocksize, window="3s")


def test_two_sensors_are_judged_together_and_told_apart(client, tmp_path):
    # the same minutes, seen by two sensors: one before a firewall that refuses
    # 198.51.100.15's queries, one beside a client that is answered
    a, b = [], []
    for k in range(6):
        t = 1.0 + 4 * k
        a.append(_query(t, "198.51.100.15", 41000 + k, 100 + k))
        a.append(_unreach(t + 0.002, "198.51.100.15"))
        b.append(_query(t + 1, "198.51.100.16", 42000 + k, 200 + k))
        b.append(_answer(t + 1.004, "198.51.100.16", 42000 + k, 200 + k))
    fa, fb = tmp_path / "sensor-a.txt", tmp_path / "sensor-b.txt"
    fa.write_text("\n".join(a) + "\n")
    fb.write_text("\n".join(b) + "\n")
    d, _ = _same_everything([fa, fb], client, None)
    by = {s["source"]: s for s in d.facts["sources"]}
    assert by[str(fa)]["queries"] == 6 and by[str(fa)]["icmp_errors"] == 6
    assert by[str(fa)]["answered"] == 0 and by[str(fa)]["clients"] == 1
    assert by[str(fb)]["queries"] == 6 and by[str(fb)]["answered"] == 6
    assert by[str(fb)]["icmp_errors"] == 0
    assert d.facts["queries"] == 12


def test_inputs_that_overlap_in_time_are_other_sensors_never_paired(client, tmp_path):
    # one capture's records dealt into two files, turn about: the files overlap in time,
    # so each is judged as a sensor of its own, and a query in one is never answered by
    # a packet of the other (on one machine as on the cluster)
    lines = _text("firewall_reject").split(b"\n")
    records = [line for line in lines if line[:1].isdigit()]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"\n".join(records[0::2]) + b"\n")
    b.write_bytes(b"\n".join(records[1::2]) + b"\n")
    d, whole = _same_everything([a, b], client, None)
    tx = ik.dns_transactions(whole)
    source = whole.set_index("record")[schema.SOURCE]
    paired = tx.dropna(subset=["outcome_record"])
    assert (
        source.loc[paired["query_record"]].to_numpy()
        == source.loc[paired["outcome_record"].astype(int)].to_numpy()
    ).all()
    # read whole, packet k is record k; dealt, it went to file k % 2: the pairs that
    # survive are those whose query and error were dealt into the same file
    together = ik.dns_transactions(ik.read(pcap_path("firewall_reject")))
    errors = together.loc[together["outcome"] == "icmp_error"]
    same = (errors["query_record"] % 2 == errors["outcome_record"].astype(int) % 2).sum()
    assert len(errors) == 3 and (tx["outcome"] == "icmp_error").sum() == same
    assert d.facts["outcomes"]["icmp_error"] == same


def test_a_missing_or_unreadable_input_is_an_error_naming_it(client, tmp_path):
    good = tmp_path / "good.txt"
    good.write_bytes(_text("service_down"))
    with pytest.raises(ik.InputError, match=r"nowhere\.pcap: no such file"):
        ikd.diagnose([good, tmp_path / "nowhere.pcap"])
    with pytest.raises(ik.InputError, match="is a directory"):
        ikd.read([good, tmp_path])
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(ik.InputError, match=r"bad\.gz"):
        ikd.diagnose([good, bad])
    # binary data inside a block: the same message, and the same place, as reading alone
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(good.read_bytes() * 3 + b"\x00garbage\n" + good.read_bytes())
    with pytest.raises(ik.InputError) as alone:
        ik.read(mixed)
    with pytest.raises(ik.InputError) as parts:
        ikd.read([mixed], blocksize=500).compute()
    assert str(parts.value) == str(alone.value)
    with pytest.raises(ik.InputError, match="given twice"):
        ikd.read([good, good])


def test_unparsed_lines_are_counted_once_per_input(client, tmp_path):
    log = tmp_path / "log.txt"
    data = _text("retry_storm").split(b"\n")
    data[7:7] = [b"garbage one", b"garbage two"]
    # and a record with a port no column holds, in the log's last block
    data.insert(
        len(data) - 20,
        b"2026-11-24 14:50:40.000001 IP 198.51.100.15.5000 > 203.0.113.2.99999: UDP, length 5",
    )
    log.write_bytes(b"\n".join(data))
    with pytest.warns(ik.ParseWarning) as alone:
        ik.read(log)
    size = log.stat().st_size
    assert len(ikd.plan([log], size // 3)) == 3
    with pytest.warns(ik.ParseWarning) as parts:
        ikd.diagnose([log], blocksize=size // 3)
    assert len(alone) == 2
    assert [str(w.message) for w in parts] == [str(w.message) for w in alone]


def test_a_time_zone_is_applied_to_every_part(client, tmp_path):
    files = _split(_text("service_down"), 2, random.Random(9), tmp_path, "z")
    blocksize = max(f.stat().st_size for f in files) // 2 + 1
    rows = ikd.read(files, blocksize=blocksize, tz="Europe/Paris").compute()
    whole = ik.read([str(f) for f in files], tz="Europe/Paris")
    assert str(rows["time"].dtype) == "datetime64[ns, Europe/Paris]"
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), whole)


def test_parquet_dataset_reads_back_with_the_schema(client, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.pcap"
    a.write_bytes(_text("service_down"))
    b.write_bytes(pcap_path("firewall_reject").read_bytes())
    out = tmp_path / "dataset"
    assert main(["parse", str(a), str(b), "--format", "parquet", "-o", str(out)]) == 0
    assert len(list(out.glob("*.parquet"))) == 2
    back = pd.read_parquet(out)
    whole = ik.read([str(a), str(b)])
    assert list(back.columns) == [*schema.COLUMN_NAMES, schema.SOURCE]
    for name, dtype in schema.dtypes().items():
        assert back[name].dtype == dtype, name
    assert back[schema.SOURCE].tolist() == whole[schema.SOURCE].tolist()
    pd.testing.assert_frame_equal(
        back.drop(columns=schema.SOURCE), whole.drop(columns=schema.SOURCE)
    )
    import pyarrow.dataset as pds

    table = pds.dataset(out, format="parquet").to_table()
    assert table.num_rows == len(whole)
    assert str(table.schema.field("time").type) == "timestamp[ns]"


def test_cli_diagnoses_several_inputs_on_a_cluster(client, tmp_path, capsys):
    files = _split(_text("retry_storm"), 2, random.Random(7), tmp_path, "s")
    args = ["diagnose", *map(str, files), "--json"]
    assert main(args) == 0
    alone = json.loads(capsys.readouterr().out)
    assert main([*args, "--dask", client.scheduler.address]) == 0
    assert json.loads(capsys.readouterr().out) == alone
    assert alone["cause"] == "service_down"
    assert [s["source"] for s in alone["facts"]["sources"]] == [str(f) for f in files]
    assert main(["diagnose", *map(str, files), "--dask", client.scheduler.address]) == 0
    text = capsys.readouterr().out
    assert "cause: service_down" in text and "what each sensor (input) saw" in text
    # each evidence line says which input it is in
    cited = [line for line in text.splitlines() if " line " in line and "203.0.113.2" in line]
    assert cited and all(line.strip().startswith(str(tmp_path)) for line in cited)
    assert main(["diagnose", *map(str, files)]) == 0
    assert capsys.readouterr().out == text


def test_cli_dask_local_starts_and_stops_its_own_cluster(tmp_path, capsys):
    files = _split(_text("firewall_drop"), 2, random.Random(3), tmp_path, "f")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    assert main(["diagnose", *map(str, files), "--dask", "local"]) == 0
    assert "cause: firewall" in capsys.readouterr().out
    left = [p for p in me.children(recursive=True) if p.pid not in before]
    _, alive = psutil.wait_procs(left, timeout=10)
    assert not alive, f"processes left behind: {alive}"


def test_an_answer_over_tcp_split_across_files_and_blocks(client, tmp_path):
    """A DNS answer over TCP that spans segments, in a log cut into two files and blocks
    between the query and the answer: the Dask path pairs the query with the answer's
    first segment as one machine does (the segment is kept for the seam)."""
    from pcapgen import pcap, render
    from test_tcpdns import spanning

    conn, query, first = spanning()
    lines = render(pcap(conn.frames), tmp_path / "c.pcap", "-nn", "-tttt").splitlines(True)
    files = []
    for k, part in enumerate((lines[:query], lines[query:])):
        files.append(tmp_path / f"tcp{k}.txt")
        files[-1].write_text("".join(part))
    d, whole = _same_everything(files, client, 256, window="2s")
    assert d.cause == "none"
    tx = ik.dns_transactions(whole)
    assert tx["outcome"].tolist() == ["answered"]
    assert int(tx["response_record"].iloc[0]) == first  # (records run on across the files)
