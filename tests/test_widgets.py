"""The explorer widget, driven programmatically."""

from __future__ import annotations

import pytest
from conftest import SEED_LOG, rendering_path

import incidentkit as ik


def body_rows(explorer):
    return explorer.table.value.split("<tbody>")[1].count("<tr>")


def plotted(explorer, series):
    for artist in explorer.ax.collections:
        if artist.get_gid() == f"incidentkit:timeline:{series}":
            return len(artist.get_offsets())
    return 0


@pytest.fixture
def seed_explorer():
    return ik.explore(ik.read_tcpdump(SEED_LOG, date="2026-11-24"), debounce=0)


def test_each_filter_changes_table_and_plot(seed_explorer):
    ex = seed_explorer
    assert len(ex.filtered) == 6 and plotted(ex, "DNS query") == 3
    assert body_rows(ex) == 6
    assert "&lt;NA&gt;" not in ex.table.value
    png = ex.image.value
    ex.protocol.value = "icmp"
    # the ICMP rows, drawn with the queries they answer (paired on the whole capture)
    assert len(ex.filtered) == 3 and plotted(ex, "DNS query") == 3
    assert plotted(ex, "ICMP error") == 3 and ex.image.value != png
    assert "other" not in ex.ax.get_ylabel()
    ex.protocol.value = "(all)"
    ex.port.value = "52444"
    assert len(ex.filtered) == 3 and set(ex.filtered["proto"]) == {"udp"}
    ex.port.value = ""
    ex.name.value = "yummy"
    assert len(ex.filtered) == 3
    ex.name.value = "nothing-like-it"
    assert len(ex.filtered) == 0
    assert ex.ax.texts[0].get_text() == "nothing to show: no rows match these filters"
    ex.name.value = ""
    ex.outcome.value = "icmp_error"
    assert len(ex.filtered) == 6
    ex.outcome.value = "answered"
    assert len(ex.filtered) == 0
    ex.outcome.value = "(all)"
    ex.host.value = "192.51.100.15"
    assert len(ex.filtered) == 6
    options = ex.time_range.options
    assert len(options) == 6  # no more steps than packets
    ex.time_range.value = (options[0][1], options[3][1])
    # the seed runs 13:24:32.19 to 13:28:50.02: the fourth of six even steps is 13:27:06.89
    # (13:24:32.192571 + 3/5 x 257.830396 s), before the second ICMP error (13:27:15)
    assert options[3][0] == "13:27:06.890"
    assert list(ex.filtered["record"]) == [1, 2, 3]


def test_table_shows_record_and_line_and_escapes(seed_explorer):
    html = seed_explorer.table.value
    assert "<th>record</th>" in html and "<th>line</th>" in html
    df = ik.parse_tcpdump(
        "10:00:00.000000 IP 198.51.100.15.40000 > 203.0.113.2.53: 7+ A? <script>x</script>. (39)"
    )
    ex = ik.explore(df, debounce=0)
    assert "<script>" not in ex.table.value and "&lt;script&gt;" in ex.table.value


def test_flood_is_binned_and_the_table_is_cut():
    ex = ik.explore(ik.read_tcpdump(rendering_path("dos", "n")), debounce=0, max_rows=20)
    assert "counts per" in ex.ax.get_title()
    assert "the first 20 are shown" in ex.count.value
    assert body_rows(ex) == 20
    ex.host.value = "198.51.100.100"
    assert 0 < len(ex.filtered) < 2000
    assert "counts per" not in ex.ax.get_title()


def test_defaults_come_from_parameters():
    ex = ik.explore(ik.read_tcpdump(SEED_LOG), protocol="udp", port=53, debounce=0)
    assert ex.protocol.value == "udp" and ex.port.value == "53"
    assert len(ex.filtered) == 3


def test_debounce_redraws_once_after_quick_changes(seed_explorer):
    import time

    ex = ik.explore(ik.read_tcpdump(SEED_LOG), debounce=0.2)
    calls = []
    original = ex.update
    ex.update = lambda: (calls.append(1), original())  # type: ignore[method-assign]
    for value in ("udp", "icmp", "udp"):
        ex.protocol.value = value
    time.sleep(0.6)
    assert len(calls) == 1 and len(ex.filtered) == 3


def legend(explorer):
    return sorted(t.get_text() for t in explorer.ax.get_legend().get_texts())


def outcomes_shown(explorer):
    """query record -> outcome, for the queries the timeline draws."""
    tx = explorer.shown_transactions
    return dict(zip(tx["query_record"], tx["outcome"], strict=True))


@pytest.mark.parametrize(
    ("log", "filters"),
    [
        (
            "seed",
            [("port", "53"), ("protocol", "udp"), ("protocol", "icmp"), ("host", "203.0.113.2")],
        ),
        ("dos", [("name", "yummy"), ("port", "53"), ("protocol", "udp"), ("outcome", "answered")]),
        (
            "firewall_drop",
            [("outcome", "no_response"), ("port", "53"), ("name", "yummy"), ("protocol", "udp")],
        ),
    ],
)
def test_filtering_never_changes_an_outcome(log, filters):
    df = ik.read_tcpdump(SEED_LOG if log == "seed" else rendering_path(log, "n"))
    whole = ik.dns_transactions(df)
    truth = dict(zip(whole["query_record"], whole["outcome"], strict=True))
    ex = ik.explore(df, debounce=0)
    for widget, value in filters:
        getattr(ex, widget).value = value
        shown = outcomes_shown(ex)
        assert shown and all(truth[r] == o for r, o in shown.items()), (log, widget, value)
        # a query shows when its own packet or the one that answered it matches
        rows = set(ex.filtered["record"])
        tx = ex.shown_transactions
        assert all(
            q in rows or (o == o and o in rows)
            for q, o in zip(tx["query_record"], tx["outcome_record"], strict=True)
        )
        getattr(ex, widget).value = "(all)" if widget in ("protocol", "outcome") else ""


def test_seed_legend_keeps_its_outcomes_under_a_port_filter():
    ex = ik.explore(ik.read_tcpdump(SEED_LOG), debounce=0)
    before = legend(ex)
    ex.port.value = "53"
    assert len(ex.filtered) == 3  # the queries: the ICMP errors carry no port
    assert legend(ex) == before and "ICMP error (3)" in before
    assert "no response" not in " ".join(legend(ex))


def test_an_invalid_port_is_marked_at_the_widget_and_ignored():
    ex = ik.explore(ik.read_tcpdump(SEED_LOG), debounce=0)
    for bad in ("abc", "70000", "-1"):
        ex.port.value = bad
        assert ex.port.layout.border and "is not a port" in ex.port_error.value
        assert len(ex.filtered) == 6
    ex.port.value = "53"
    assert not ex.port.layout.border and ex.port_error.value == ""


def test_the_date_is_said_once():
    undated = ik.explore(ik.read_tcpdump(SEED_LOG), debounce=0)
    assert "date unknown" in undated.date.value
    assert "1970" not in undated.table.value and "13:24:32.192571" in undated.table.value
    dated = ik.explore(ik.read_tcpdump(SEED_LOG, date="2026-11-24"), debounce=0)
    assert dated.date.value == "date: 2026-11-24"
    assert "from 13:24:32.192 to 13:28:50.022" in dated.window.value
