"""Figures: check what was drawn, not only that nothing raised."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import SEED_LOG, rendering_path

import incidentkit as ik
from incidentkit.plot import plot_icmp_errors, plot_latency, plot_rate, plot_timeline


@pytest.fixture(scope="module")
def seed():
    return ik.read_tcpdump(SEED_LOG, date="2026-11-24")


@pytest.fixture(scope="module")
def flood():
    return ik.read_tcpdump(rendering_path("dos", "nn-tttt"))


def by_gid(ax, gid):
    found = [
        a
        for a in [*ax.collections, *ax.lines, *ax.patches, *ax.texts]
        if (a.get_gid() or "") == gid
    ]
    return found


def points(ax, gid):
    (artist,) = by_gid(ax, gid)
    return artist.get_offsets()


def test_timeline_of_the_seed(seed):
    ax = plot_timeline(seed, reported_at="2026-11-24 13:24")
    assert len(points(ax, "incidentkit:timeline:DNS query")) == 3
    assert len(points(ax, "incidentkit:timeline:ICMP error")) == 3
    assert by_gid(ax, "incidentkit:timeline:DNS answer") == []
    (links,) = by_gid(ax, "incidentkit:timeline:links")
    assert len(links.get_segments()) == 3
    (reported,) = by_gid(ax, "incidentkit:timeline:reported")
    assert reported.get_label() == "reported 13:24"
    assert ax.get_title() == "DNS queries and what came of them"
    assert ax.get_xlabel().startswith("time") and "203.0.113.2" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "DNS query (3)" in labels and "ICMP error (3)" in labels


def test_timeline_crosses_for_silence():
    df = ik.read_tcpdump(rendering_path("firewall_drop", "n"))
    ax = plot_timeline(df)
    assert len(points(ax, "incidentkit:timeline:no response")) == 3
    assert by_gid(ax, "incidentkit:timeline:ICMP error") == []


def test_timeline_lanes_per_server():
    healthy = rendering_path("healthy", "n").read_text().replace("203.0.113.2", "203.0.113.3")
    df = ik.parse_tcpdump(healthy + rendering_path("service_down", "n").read_text())
    ax = plot_timeline(df)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "203.0.113.3 · DNS answer" in ticks and "203.0.113.2 · ICMP error" in ticks
    assert len(ticks) == 10
    assert ax.get_ylabel() == "event (per DNS server)"


def test_timeline_bins_a_flood(flood):
    ax = plot_timeline(flood)
    assert "counts per" in ax.get_title()
    (bars,) = by_gid(ax, "incidentkit:timeline:DNS query")
    heights = [p.get_extents().height for p in bars.get_paths()]
    assert len(heights) > 10 and all(0.1 - 1e-9 <= h <= 0.8 + 1e-9 for h in heights)
    assert not by_gid(ax, "incidentkit:timeline:links")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "DNS query (20006)" in legend
    plt.close("all")
    small = plot_timeline(flood, max_events=10**6)
    assert len(points(small, "incidentkit:timeline:DNS query")) == 20006


def test_rate_with_threshold_and_spike(flood):
    ax = plot_rate(flood, threshold=100)
    (packets,) = by_gid(ax, "incidentkit:rate:packets")
    assert int(max(packets.get_ydata())) == int(ik.traffic_rate(flood)["packets"].max())
    (threshold,) = by_gid(ax, "incidentkit:rate:threshold")
    assert list(threshold.get_ydata()) == [100, 100]
    spikes = by_gid(ax, "incidentkit:rate:spike")
    assert len(spikes) == int((ik.traffic_rate(flood)["packets"] >= 100).sum()) >= 1
    (sources,) = [
        line for line in ax.sources_axes.lines if line.get_gid() == "incidentkit:rate:sources"
    ]
    assert int(max(sources.get_ydata())) == 48
    assert ax.get_ylabel() == "packets per 1s"
    assert ax.sources_axes is not ax
    assert ax.sources_axes.get_ylabel() == "distinct sources per 1s"


def test_rate_without_a_threshold_draws_no_line(seed):
    ax = plot_rate(seed, freq="1min")
    assert by_gid(ax, "incidentkit:rate:threshold") == []
    assert list(by_gid(ax, "incidentkit:rate:packets")[0].get_ydata()) == [1, 0, 1, 0, 1]
    # one client, one packet a minute: sources share the packets' axis
    assert ax.sources_axes is ax
    assert list(by_gid(ax, "incidentkit:rate:sources")[0].get_ydata()) == [1, 0, 1, 0, 1]


def test_latency_by_outcome(seed):
    ax = plot_latency(ik.dns_transactions(seed))
    ys = points(ax, "incidentkit:latency:icmp_error")[:, 1]
    assert [round(y, 6) for y in ys] == [3.905993, 43.741555, 17.830396]
    assert ax.get_ylabel() == "latency (s)"


def test_icmp_errors_by_reason_and_sender():
    df = ik.read_tcpdump(rendering_path("host_down", "n"))
    ax = plot_icmp_errors(df)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["host unreachable"]
    (router,) = by_gid(ax, "incidentkit:icmp:198.51.100.1")
    assert len(router.get_offsets()) == 5
    assert "a hop on the path" in router.get_label()


@pytest.mark.parametrize(
    "draw",
    [
        lambda df: plot_timeline(df),
        lambda df: plot_rate(df, threshold=5),
        lambda df: plot_latency(ik.dns_transactions(df)),
        lambda df: plot_icmp_errors(df),
    ],
)
def test_empty_input_says_so(draw):
    ax = draw(ik.parse_tcpdump(""))
    (note,) = by_gid(ax, "incidentkit:empty")
    assert note.get_text().startswith("nothing to show")
    assert ax.get_title()


def test_time_zone_aware_times_draw():
    df = ik.read_tcpdump(rendering_path("service_down", "nn-tttt"), tz="UTC")
    ax = plot_timeline(df, reported_at=pd.Timestamp("2026-11-24 14:49"))
    assert ax.get_xlabel() == "time (UTC)"


def _tick_texts(ax):
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_time_ticks_of_a_log_without_dates_are_whole_times():
    # tcpdump's default style prints the time of day only: each tick says which time
    flood = ik.read_tcpdump(rendering_path("dos", "n"))
    for draw in (lambda ax: plot_rate(flood, ax=ax), lambda ax: plot_timeline(flood, ax=ax)):
        fig, ax = plt.subplots()
        draw(ax)
        ticks = _tick_texts(ax)
        assert ticks and all(pd.Timestamp(t).year for t in ticks), ticks
        assert all(len(t.split(":")) == 3 for t in ticks), ticks  # HH:MM:SS, not "30"
        plt.close(fig)
    seed = ik.read_tcpdump(SEED_LOG)  # four minutes: to the second
    fig, ax = plt.subplots()
    plot_timeline(seed, ax=ax)
    assert "13:25:00" in _tick_texts(ax)
    plt.close(fig)


@pytest.mark.parametrize("name", ["ns$\\foo$.example", "$x^2$", "a$b", "$$"])
def test_text_from_the_log_is_never_math(tmp_path, name):
    log = tmp_path / "named.log"
    log.write_text(SEED_LOG.read_text().replace("203.0.113.2", name))
    df = ik.read_tcpdump(log)
    tx = ik.dns_transactions(df)
    draws = {
        "timeline": lambda ax: plot_timeline(df, ax=ax),
        "latency": lambda ax: plot_latency(tx, ax=ax),
        "icmp": lambda ax: plot_icmp_errors(df, ax=ax),
        "rate": lambda ax: plot_rate(df, ax=ax, server=name),
    }
    for figure, draw in draws.items():
        fig, ax = plt.subplots()
        draw(ax)
        fig.savefig(tmp_path / f"{figure}.png")  # (mathtext raised here on "$\\foo$")
        shown = [t.get_text() for t in fig.findobj(plt.Text)]
        if figure in ("timeline", "icmp"):
            assert any(name in t for t in shown), (figure, shown)
        plt.close(fig)


def test_icmp_errors_that_answer_no_query_are_drawn():
    # the scenario's answers come from another address: no query is answered, and the
    # clients' port unreachable errors for those answers pair with nothing
    df = ik.read_tcpdump(rendering_path("wrong_source", "n"))
    assert ik.dns_transactions(df)["outcome_record"].isna().all()
    ax = plot_timeline(df)
    assert len(points(ax, "incidentkit:timeline:ICMP error")) == len(ik.icmp_errors(df)) > 0
    plt.close("all")
