"""The follow-up report: papermill on every scenario, the HTML in a real Chromium, and
hostile DNS names that must stay text."""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT, SEED_LOG, rendering_path, scenario_manifest, tcpdump

import incidentkit as ik
from incidentkit.browser import open_report
from incidentkit.testing import dns_query, udp_frame, write_pcap

#: what the report's conclusion must say for each cause
CAUSE_WORDS = {
    "service_down": "is not running",
    "host_down": "is down or cut off",
    "firewall": "a firewall blocks DNS traffic",
    "dos": "a flood of DNS queries hit",
    "misconfiguration": "is misconfigured",
    "slow_server": "answers too slowly",
    "none": "worked: the queries were answered",
}
SECTIONS = [
    "Follow-up report: yummyrecipesforme.com, 2026-11-24",
    "Part 1: problem summary",
    "1. When the incident was reported",
    "2. What users saw",
    "3. Which protocol carried the failing traffic",
    "4. The ICMP error messages",
    "5. The port and its service",
    "Part 2: analysis and solution summary",
    "1. The capture's evidence",
    "2. Is the DNS server down, or is its port blocked by a firewall?",
    "3. Is there a flood of traffic to the DNS port?",
    "4. Is the DNS server misconfigured?",
    "5. Conclusion",
    "Next steps for the engineers",
    "Evidence",
]
SHOTS = ROOT / "reports" / "screenshots"
#: the seed's incident, as `make report` passes it
SEED_FACTS = {
    "site_domain": "yummyrecipesforme.com",
    "reported_at": "1:24 PM",
    "symptom": "destination port unreachable",
}
#: words of the seed's story that no other report may carry unless they are passed
SEED_STORY = [
    "13:24",
    "1:24 PM",
    "destination port unreachable",
    "Security analyst",
    "IT consulting",
]


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "seed.html"
    return ik.run_report(SEED_LOG, out, parameters={"capture_date": "2026-11-24", **SEED_FACTS})


def test_seed_report_files(seed_report):
    html = seed_report.read_text()
    assert seed_report.with_suffix(".ipynb").exists()
    assert re.search(r"Cause: <b>the DNS service on 203\.0\.113\.2 is not running[^<]*</b>", html)
    assert "<title>Follow-up report: yummyrecipesforme.com, 2026-11-24</title>" in html
    # no code, nothing fetched from a network, figures embedded
    assert "hl-ipython3" not in html and "import incidentkit" not in html
    assert not re.search(r"""(?:src|href)=["']https?://""", html)
    assert html.count('src="data:image/png;base64,') == 4  # timeline, latency, ICMP, rate
    # every figure is described by its titles
    assert re.findall(r'<img[^>]*alt="([^"]*)"', html) == [
        "DNS queries and what came of them",
        "Time from each query to its outcome",
        "ICMP errors over time",
        "Traffic to port 53",
    ]
    executed = nbformat.read(str(seed_report.with_suffix(".ipynb")), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


SCENARIO_PARAMS = {"expected_address": "203.0.113.80", "reported_at": ""}
STARTED_IN = Path.cwd()


@pytest.fixture(scope="module")
def scenario_reports(tmp_path_factory) -> dict[str, Path]:
    """Every scenario's report, written two at a time in processes of their own
    (papermill runs a notebook in its cwd by os.chdir, which is the whole process's, so
    reports written from threads at once would leave each other, and the tests, in
    another's folder)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = tmp_path_factory.mktemp("scenarios")
    rows = scenario_manifest()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        written = {
            row["scenario"]: pool.submit(
                ik.run_report,
                rendering_path(row["scenario"], "n"),
                out / f"{row['scenario']}.html",
                parameters=SCENARIO_PARAMS,
            )
            for row in rows
        }
        return {name: future.result() for name, future in written.items()}


@pytest.mark.parametrize("row", scenario_manifest(), ids=lambda r: r["scenario"])
def test_report_names_each_scenarios_cause(row, scenario_reports):
    assert Path.cwd() == STARTED_IN  # (no report left this process in another folder)
    html = scenario_reports[row["scenario"]].read_text()
    cause = re.search(r"Cause: <b>([^<]*)</b>", html)
    assert cause and CAUSE_WORDS[row["expected_cause"]] in cause.group(1), row["scenario"]
    # the first screen says it too, in the summary box, with its confidence in words
    box = re.search(r"<div class=[\"']ik-summary[\"']>(.*?)</div>", html, re.S)
    assert box, row["scenario"]
    summary = box.group(1)
    assert CAUSE_WORDS[row["expected_cause"]].lower() in summary.lower(), row["scenario"]
    assert re.search(r"<th>Confidence</th><td>(Certain|Likely|Possible)", summary)
    # nothing of the seed's story in a report on another capture
    text = re.sub(r"<[^>]+>", " ", html)
    assert [w for w in SEED_STORY if w in text] == [], row["scenario"]
    # (the scenarios ask for the seed's site, but no site was given: the title names none)
    assert re.search(r"<h1[^>]*>Follow-up report: DNS on [^<]*, date unknown</h1>", html)
    assert "<th>Site</th>" not in html
    # prose carries no microseconds (tables keep them)
    paragraphs = " ".join(re.findall(r"<p[^>]*>(.*?)</p>", html, re.S))
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", paragraphs), row["scenario"]


def test_a_report_on_a_capture_file_cites_its_frames(tmp_path):
    # the capture itself, not its rendering: its packets have frames, not lines, and
    # their dates (a pcap's times are UTC, so the report is dated without being told)
    capture = ROOT / "data" / "scenarios" / "firewall_reject.pcap"
    out = ik.run_report(capture, tmp_path / "r.html", parameters=SCENARIO_PARAMS)
    html = out.read_text()
    cause = re.search(r"Cause: <b>([^<]*)</b>", html)
    assert cause and CAUSE_WORDS["firewall"] in cause.group(1)
    assert re.search(r"<h1[^>]*>Follow-up report: DNS on [^<]*, 2026-11-24</h1>", html)
    text = re.sub(r"<[^>]+>", " ", html)
    assert re.search(r"\(frames? \d+", text) and not re.search(r"\(lines? \d+", text)
    assert "firewall_reject.pcap" in text


def test_a_report_of_two_sensors_says_what_each_saw(tmp_path):
    # two sensors' captures of one incident, one of them a capture file and one a log,
    # the log's name holding markup (names are shown, never interpreted)
    pcap = tmp_path / "edge.pcap"
    shutil.copy(ROOT / "data" / "scenarios" / "firewall_reject.pcap", pcap)
    log = tmp_path / "core <b>x<b>.txt"
    log.write_text(tcpdump(ROOT / "data" / "scenarios" / "firewall_drop.pcap", "-nn", "-tttt"))
    out = ik.run_report([pcap, log], tmp_path / "r.html", parameters=SCENARIO_PARAMS)
    html = out.read_text()
    assert "<b>x<b>" not in html and "core &lt;b&gt;x&lt;b&gt;.txt" in html
    text = re.sub(r"<[^>]+>", " ", html)
    assert "The capture comes from 2 inputs" in text
    # the table: each input's queries to the server, and what came of them
    rows = re.findall(r"<tr><td>([^<]*(?:edge\.pcap|\.txt))</td>((?:<td>[^<]*</td>)+)</tr>", html)
    cells = {name.rsplit("/", 1)[-1]: re.findall(r"<td>([^<]*)</td>", rest) for name, rest in rows}
    assert cells["edge.pcap"][3:8] == ["3", "0", "0", "3", "0"]  # queries .. no response
    assert cells["core &lt;b&gt;x&lt;b&gt;.txt"][3:8] == ["3", "0", "0", "0", "3"]
    # citations name the input with the frame or line
    assert re.search(r"frames? [\d, and]+ of \S*edge\.pcap", text)
    assert re.search(r"lines? [\d, and]+ of \S*core &lt;b&gt;x&lt;b&gt;\.txt", text)


def test_failure_names_the_section_and_leaves_no_html(tmp_path):
    broken = tmp_path / "broken.ipynb"
    nb = nbformat.read(str(ik.report.DEFAULT_NOTEBOOK), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source == "story.port()":
            cell.source = "raise RuntimeError('the port step broke')"
    nbformat.write(nb, str(broken))
    out = tmp_path / "r.html"
    out.write_text("an old report")
    with pytest.raises(ik.ReportError) as info:
        ik.run_report(SEED_LOG, out, notebook=broken)
    assert info.value.section == "5. The port and its service"
    assert "RuntimeError: the port step broke" in str(info.value)
    assert not out.exists()
    assert (tmp_path / "r.failed.ipynb").exists()


def test_unknown_parameter_and_missing_log(tmp_path):
    with pytest.raises(ik.ReportError, match="no parameter 'colour'"):
        ik.run_report(SEED_LOG, tmp_path / "r.html", parameters={"colour": "red"})
    with pytest.raises(ik.ReportError, match="no such file"):
        ik.run_report(tmp_path / "missing.log", tmp_path / "r.html")


def test_cli_report(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "cli.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "incidentkit.cli",
            "report",
            str(SEED_LOG),
            "-o",
            str(out),
            "-p",
            "dos_threshold",
            "50",
            "-p",
            "analyst",
            "A. Analyst",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no kernel warning in the user's terminal
    assert "A. Analyst" in out.read_text()
    assert "a flood needs 50)" in out.read_text()


# ------------------------------------------------------------------ the real browser
def open_in_browser(html_path: Path, shot: Path):
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: .ci/run installs it")
    seen = open_report(html_path, shot)
    return seen.facts, seen.dialogs, seen.console_errors, seen.requests


def test_report_in_chromium(seed_report):
    facts, dialogs, errors, requests = open_in_browser(seed_report, SHOTS / "seed-report.png")
    assert facts["title"] == "Follow-up report: yummyrecipesforme.com, 2026-11-24"
    assert facts["headings"] == SECTIONS
    assert len(facts["images"]) == 4
    assert all(img["w"] > 0 and img["complete"] for img in facts["images"])
    assert facts["code"] == 0
    assert dialogs == [] and errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests)
    assert "Cause: the DNS service on 203.0.113.2 is not running" in facts["text"]
    assert (SHOTS / "seed-report.png").stat().st_size > 50_000


HOSTILE = [
    [b"<img src=x onerror=alert(1)>", b"example"],
    [b"<script>alert(1)<", b"script>", b"example"],
    [b'"><svg onload=alert(1)>', b"example"],
]


def test_hostile_dns_names_stay_text(tmp_path):
    frames = []
    for i, labels in enumerate(HOSTILE):
        query = dns_query(100 + i, labels)
        frames.append(
            (1795532000.0 + i, udp_frame("198.51.100.15", "203.0.113.2", 40000 + i, 53, query))
        )
    pcap = write_pcap(tmp_path / "hostile.pcap", frames)
    log = tmp_path / "hostile.txt"
    log.write_text(tcpdump(pcap, "-nn"))
    assert "<img src=x onerror=alert(1)>.example." in log.read_text()  # tcpdump prints it raw
    out = ik.run_report(log, tmp_path / "hostile.html")
    html = out.read_text()
    assert "<img src=x" not in html and "<script>alert" not in html and "<svg" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    facts, dialogs, errors, _ = open_in_browser(out, SHOTS / "hostile-report.png")
    assert dialogs == []
    assert facts["imgX"] == 0 and facts["onerror"] == 0 and facts["scripts"] == 0
    assert "<img src=x onerror=alert(1)>" in facts["text"]  # shown, as text
    assert errors == []


def test_make_report_target_writes_the_seed_report():
    # what `make report` runs, on the same files
    out = ROOT / "reports" / "yummyrecipesforme.html"
    if os.environ.get("CI") is None and out.exists():
        out.unlink()
    import subprocess

    result = subprocess.run(
        ["make", "-s", "report"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists() and "is not running" in out.read_text()


# ------------------------------------------------------------------ the first screen
def test_the_summary_box_comes_first_and_each_finding_once(seed_report):
    html = seed_report.read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    box = re.search(r"<div class=[\"']ik-summary[\"']>(.*?)</div>", html, re.S)
    assert box and html.index("ik-summary") < html.index("Part 1: problem summary")
    rows = re.findall(r"<th>([^<]+)</th>", box.group(1))
    assert rows == ["What failed", "Impact", "Cause", "Confidence", "Ruled out", "Next step"]
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", box.group(1)))
    assert (
        "DNS lookups of yummyrecipesforme.com sent to the DNS server 203.0.113.2 "
        "(UDP port 53) failed" in summary
    )
    assert "3 of 3 DNS queries to 203.0.113.2 failed, from 1 client (192.51.100.15)" in summary
    assert "The DNS service on 203.0.113.2 is not running" in summary
    assert "service_down" not in text  # machine names stay in the JSON
    # the service-down finding is said once, where it is weighed
    assert text.count("all 3 queries drew ICMP port unreachable from 203.0.113.2 itself") == 1


def test_a_report_time_far_from_the_capture_is_a_caveat():
    df = ik.read_tcpdump(SEED_LOG)
    d = ik.diagnose(df)
    tx = ik.dns_transactions(df)
    far = ik.Story(df, d, tx, reported_at="9:00 AM")
    assert far.reported_on_axis is None  # the figures keep to the capture's window
    assert "reported 4 h 24 min before the capture starts" in str(far.summary())
    near = ik.Story(df, d, tx, reported_at="1:24 PM")
    assert near.reported_on_axis == pd.Timestamp("1970-01-01 13:24:00")
    assert "before the capture starts" not in str(near.summary())
    assert ik.Story(df, d, tx).report_gap is None


@pytest.mark.parametrize(
    ("capture", "cause", "said"),
    [
        # the router (its side facing the client) answered host unreachable: named as such
        ("scenarios/host_down.pcap", "host_down", "its router (198.51.100.1) cannot deliver"),
        # nothing answered at all: no router to name, and not the server as its own
        ("scenarios/host_down_local.pcap", "host_down", "neither it nor a router on the path"),
        # silence: the filters on the path, not "on 203.0.113.2 and on 203.0.113.2"
        (
            "scenarios/firewall_drop.pcap",
            "firewall",
            "the routers and firewalls on the path and on",
        ),
        # a router refused: it is named beside the server
        ("cases/outage_reject_window.pcap", "firewall", "198.51.100.1 and on <b>203.0.113.2</b>"),
    ],
)
def test_next_steps_name_the_hosts_that_answered_and_never_the_server_twice(capture, cause, said):
    df = ik.read(ROOT / "data" / capture)
    d = ik.diagnose(df)
    assert d.cause == cause
    steps = str(ik.Story(df, d, ik.dns_transactions(df)).next_steps())
    assert said in steps
    server = f"<b>{d.server}</b>"
    assert f"{d.server}) cannot deliver" not in steps
    assert f"on {server} and on {server}" not in steps and f"on {d.server} and on" not in steps


@pytest.mark.parametrize(
    ("capture", "flag"),
    [("scenarios/tcp_service_down.pcap", "ss -tlpn"), ("scenarios/service_down.pcap", "ss -ulpn")],
)
def test_next_steps_list_the_sockets_of_the_protocol_that_failed(capture, flag):
    """ss -t lists TCP sockets and -u UDP ones: a TCP service is looked for with -t."""
    df = ik.read(ROOT / "data" / capture)
    d = ik.diagnose(df)
    assert d.cause == "service_down"
    steps = str(ik.Story(df, d, ik.dns_transactions(df)).next_steps())
    assert f"<code>{flag} | grep :53</code>" in steps


def _summary(capture: str) -> str:
    df = ik.read(ROOT / "data" / capture)
    return str(ik.Story(df, ik.diagnose(df), ik.dns_transactions(df)).summary())


def test_tcp_connections_that_carried_no_query_are_counted_as_connections():
    """Blocked or reset TCP connections never carried a query: not "2 of 0 DNS queries"."""
    for capture in ("cases/tcp_drop_udp_ok.pcap", "cases/tcp_rst_router_only_tcp.pcap"):
        text = _summary(capture)
        assert "of 0 DNS queries" not in text
        assert (
            "2 of 2 TCP connection attempts to 203.0.113.2 port 53 failed before a DNS query "
            "could be sent, from 1 client (198.51.100.15)"
        ) in text


def test_queries_no_cause_explains_are_not_called_no_queries():
    """Queries that died on the way (TTL 1): what failed and that no cause fits, not "the
    capture holds no DNS query"."""
    text = _summary("cases/ttl1.pcap")
    assert "holds no DNS query" not in text
    assert "failed: ICMP ttl exceeded in transit from 198.51.100.1" in text
    assert "<b>Not determined</b>: no cause of the list fits" in text
    df = ik.parse_tcpdump("")  # (and a capture with nothing in it still says so)
    assert "holds no DNS query" in str(
        ik.Story(df, ik.diagnose(df), ik.dns_transactions(df)).summary()
    )


def _section(capture: str, name: str) -> str:
    df = ik.read(ROOT / "data" / capture)
    return str(getattr(ik.Story(df, ik.diagnose(df), ik.dns_transactions(df)), name)())


def test_the_protocol_step_says_what_carried_the_traffic_in_every_shape():
    # connections that never carried a query are not called queries, nor the UDP ones
    said = _section("cases/tcp_drop_udp_ok.pcap", "protocol")
    assert "carried over <b>TCP</b>: 2 connection attempts from 198.51.100.15" in said
    assert "never carried a query" in said and "queries" not in said
    # a server asked over both transports is both
    said = _section("scenarios/healthy.pcap", "protocol")
    assert "carried over <b>UDP</b> and <b>TCP</b>: 2 queries" in said
    # a server whose link-layer address was never found: nothing was sent to it
    for step in ("protocol", "port"):
        said = _section("scenarios/host_down_local.pcap", step)
        assert said.startswith("<p>No packet reached <b>198.51.100.53</b>: the requests")
        assert "No DNS traffic" not in said


def test_a_conclusion_no_cause_fits_says_what_failed():
    said = _section("cases/ttl1.pcap", "conclusion")
    assert said.startswith(
        "<p><b>Not determined.</b> The queries to 203.0.113.2 failed (ICMP ttl exceeded in "
        "transit from 198.51.100.1), and no cause of the list explains it"
    )


def test_the_symptom_step_says_whose_lookups_the_errors_answer():
    """The browser's words only where the clients' lookups drew destination unreachable;
    errors a client sent itself (refusing its answers) answer no lookup."""
    browser = "A browser whose lookups draw an ICMP destination-unreachable error"
    assert browser in _section("scenarios/service_down_ipv6.pcap", "symptom_seen")
    said = _section("cases/clientfw_reject.pcap", "symptom_seen")
    assert browser not in said
    assert "None of them answers a client's lookup: 198.51.100.15 sent them" in said
    said = _section("cases/ttl1.pcap", "symptom_seen")
    assert browser not in said and "They answer the clients' own queries" in said


def test_the_package_ships_the_notebooks_the_repository_runs():
    # notebooks/ holds the package's notebooks executed on the seed's incident
    for name in ("dns_incident_report.ipynb", "explore.ipynb"):
        clean = nbformat.read(str(ik.report.NOTEBOOKS / name), as_version=4)
        executed = nbformat.read(str(ROOT / "notebooks" / name), as_version=4)
        ran = [c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        assert [(c.cell_type, c.source) for c in ran] == [
            (c.cell_type, c.source) for c in clean.cells
        ], name
        assert all(not c.get("outputs") for c in clean.cells if c.cell_type == "code")
    params = ik.report.notebook_parameters()
    assert {p["default"] for n, p in params.items() if p["type"] == "str"} == {'""'}


def test_report_help_lists_the_notebooks_parameters():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "incidentkit.cli", "report", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(str(ik.report.DEFAULT_NOTEBOOK), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for line in cell.source.splitlines():
        name, comment = line.split(":")[0], line.split("#", 1)[1].strip()
        if name in ("log_path", "more_logs"):  # (the LOG arguments)
            continue
        assert re.search(rf"^  {name} \(\w+, default .+\)$", result.stdout, re.M), name
        assert comment in result.stdout, name
    assert "NAME.pdf" in result.stdout


def test_math_markup_in_a_host_name_is_text(tmp_path):
    # a name-resolving log: the server's name holds matplotlib math markup
    log = tmp_path / "named.log"
    log.write_text(SEED_LOG.read_text().replace("203.0.113.2", r"ns$\foo$.example"))
    out = ik.run_report(log, tmp_path / "named.html")
    html = out.read_text()
    assert r"ns$\foo$.example" in html
    assert html.count('src="data:image/png;base64,') == 4
    facts, dialogs, errors, _ = open_in_browser(out, SHOTS / "math-name-report.png")
    assert dialogs == [] and errors == []
    assert r"ns$\foo$.example" in facts["text"]


def test_reports_written_from_threads_never_change_the_umask():
    """The scenario reports are written two at a time: reading the umask must not set it
    (a set-and-put-back in two threads at once can leave it at 0 for the process)."""
    from incidentkit.report import _umask

    old = os.umask(0o027)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            seen = set(pool.map(lambda _: _umask(), range(4000)))
        assert seen == {0o027}
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(old)
