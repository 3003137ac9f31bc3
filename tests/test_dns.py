"""DNS transactions: queries paired with answers, ICMP errors or silence."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SEED_LOG, rendering_path, scenario_manifest

import incidentkit as ik


def test_seed_is_one_question_asked_three_times():
    t = ik.dns_transactions(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    assert t["attempt"].tolist() == [1, 2, 3]
    assert t["question"].nunique() == 1
    assert t["outcome"].tolist() == ["icmp_error"] * 3
    assert t["outcome_record"].tolist() == [2, 4, 6]
    assert [round(v.total_seconds(), 6) for v in t["latency"]] == [3.905993, 43.741555, 17.830396]
    assert t["records"].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert set(t["icmp_sender"]) == {"203.0.113.2"}


@pytest.mark.parametrize("style", ["default", "n", "nn-tttt", "v"])
def test_every_query_counted_once(style):
    for row in scenario_manifest():
        df = ik.read_tcpdump(rendering_path(row["scenario"], style))
        t = ik.dns_transactions(df)
        assert len(t) == int(row["dns_queries"])
        answered = t["outcome"].isin(["answered", "error"]).sum()
        assert answered == int(row["dns_responses"]), row["scenario"]


def test_outcomes_per_scenario():
    def outcomes(name: str, style: str = "n") -> dict[str, int]:
        t = ik.dns_transactions(ik.read_tcpdump(rendering_path(name, style)))
        return t["outcome"].value_counts().to_dict()

    assert outcomes("healthy") == {"answered": 2}
    assert outcomes("service_down") == {"icmp_error": 3}
    assert outcomes("firewall_drop") == {"no_response": 3}
    assert outcomes("refused") == {"error": 1}
    # the router held two queries while it looked for the server, then refused both
    for style in ("n", "v"):
        assert outcomes("host_down", style) == {"icmp_error": 3}


def test_verbose_pairs_exactly_by_the_quoted_query():
    df = ik.read_tcpdump(rendering_path("host_down", "v"))
    t = ik.dns_transactions(df)
    errors = df.set_index("record").loc[t["outcome_record"].astype(int)]
    assert errors["icmp_orig_sport"].tolist() == t["client_port"].tolist()
    assert errors["icmp_orig_dns_id"].tolist() == t["dns_id"].tolist()


def test_answers_and_addresses():
    t = ik.dns_transactions(ik.read_tcpdump(rendering_path("wrong_answer", "v")))
    assert t.loc[0, "answers"] == "yummyrecipesforme.com. A 198.51.100.66"
    assert t.loc[0, "addresses"] == ["198.51.100.66"]
    assert t.loc[0, "rcode"] == "NoError"


def test_dns_over_tcp_pairs_too():
    t = ik.dns_transactions(ik.read_tcpdump(rendering_path("healthy", "n")))
    assert t["proto"].tolist() == ["udp", "tcp"]
    assert (t["outcome"] == "answered").all()


QUERY = "{t} IP 198.51.100.15.{p} > 203.0.113.2.53: {i}+ A? yummyrecipesforme.com. (39)"
ANSWER = "{t} IP 203.0.113.2.53 > 198.51.100.15.{p}: {i}* 1/0/0 A 203.0.113.80 (55)"


def test_answer_after_a_retransmission_goes_to_the_retransmission():
    text = "\n".join(
        [
            QUERY.format(t="10:00:00.000000", p=40000, i=7),
            QUERY.format(t="10:00:02.000000", p=40000, i=7),
            ANSWER.format(t="10:00:02.100000", p=40000, i=7),
        ]
    )
    t = ik.dns_transactions(ik.parse_tcpdump(text))
    assert t["outcome"].tolist() == ["no_response", "answered"]
    assert t["attempt"].tolist() == [1, 2]
    assert t.loc[1, "latency"] == pd.Timedelta(milliseconds=100)


def test_retry_window_splits_questions():
    text = "\n".join(
        [
            QUERY.format(t="10:00:00.000000", p=40000, i=7),
            QUERY.format(t="10:04:00.000000", p=40001, i=8),
            QUERY.format(t="10:20:00.000000", p=40002, i=9),
        ]
    )
    t = ik.dns_transactions(ik.parse_tcpdump(text))
    assert t["attempt"].tolist() == [1, 2, 1]
    assert t["question"].tolist() == [1, 1, 2]
    t = ik.dns_transactions(ik.parse_tcpdump(text), retry_window="1min")
    assert t["attempt"].tolist() == [1, 1, 1]


def test_a_late_answer_outside_the_window_is_silence():
    text = "\n".join(
        [
            QUERY.format(t="10:00:00.000000", p=40000, i=7),
            ANSWER.format(t="10:09:00.000000", p=40000, i=7),
        ]
    )
    assert ik.dns_transactions(ik.parse_tcpdump(text))["outcome"].tolist() == ["no_response"]
    late = ik.dns_transactions(ik.parse_tcpdump(text), reply_window="10min")
    assert late["outcome"].tolist() == ["answered"]


def test_empty_and_dnsless_captures():
    assert len(ik.dns_transactions(ik.parse_tcpdump(""))) == 0
    arp = "14:54:36.902024 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28"
    t = ik.dns_transactions(ik.parse_tcpdump(arp))
    assert len(t) == 0 and "outcome" in t.columns
