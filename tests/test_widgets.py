"""The explorer widget, driven programmatically."""

from __future__ import annotations

import pytest
from conftest import SEED_LOG, rendering_path

import incidentkit as ik


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
    assert ex.table.value.count("<tr>") == 6  # one per row (the header row has a style)
    assert "&lt;NA&gt;" not in ex.table.value
    png = ex.image.value
    ex.protocol.value = "icmp"
    assert len(ex.filtered) == 3 and plotted(ex, "DNS query") == 0
    assert plotted(ex, "ICMP error") == 3 and ex.image.value != png
    ex.protocol.value = "(all)"
    ex.port.value = "52444"
    assert len(ex.filtered) == 3 and set(ex.filtered["proto"]) == {"udp"}
    ex.port.value = ""
    ex.name.value = "yummy"
    assert len(ex.filtered) == 3
    ex.name.value = "nothing-like-it"
    assert len(ex.filtered) == 0 and "nothing to show" in ex.ax.texts[0].get_text()
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
    assert ex.table.value.count("<tr>") == 20
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
