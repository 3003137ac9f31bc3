"""Table-driven cases: a real line of each kind tcpdump 4.99.3 printed for the scenario
captures in data/scenarios/, and the record it must give, field by field."""

from __future__ import annotations

import pandas as pd
import pytest

import incidentkit as ik

T = pd.Timestamp
DAY = "2026-11-24"

# (id, text, expected fields of the first row)
CASES: list[tuple[str, str, dict[str, object]]] = [
    (
        "default-names-query",
        "14:54:36.902042 IP 198.51.100.15.49736 > 203.0.113.2.domain: 38795+ A? "
        "yummyrecipesforme.com. (39)",
        dict(
            time=T(f"{DAY} 14:54:36.902042"),
            proto="udp",
            src="198.51.100.15",
            sport=49736,
            dst="203.0.113.2",
            dport=53,
            dns_id=38795,
            dns_qr="query",
            dns_flags="+",
            dns_qtype="A",
            dns_qname="yummyrecipesforme.com",
            length=39,
        ),
    ),
    (
        "default-names-response",
        "14:52:33.751920 IP 203.0.113.2.domain > 198.51.100.15.35125: 18062* 1/0/0 "
        "A 198.51.100.66 (55)",
        dict(
            proto="udp",
            sport=53,
            dport=35125,
            dns_id=18062,
            dns_qr="response",
            dns_flags="*",
            dns_rcode="NoError",
            dns_ancount=1,
            dns_answers="A 198.51.100.66",
            dns_qname=None,
            length=55,
        ),
    ),
    (
        "nxdomain",
        "14:52:21.548548 IP 203.0.113.2.53 > 198.51.100.15.35888: 28974 NXDomain 0/0/0 (39)",
        dict(
            dns_qr="response", dns_id=28974, dns_rcode="NXDomain", dns_ancount=0, dns_answers=None
        ),
    ),
    (
        "refused",
        "14:51:50.876411 IP 203.0.113.2.53 > 198.51.100.15.42527: 40480 Refused 0/0/0 (39)",
        dict(dns_qr="response", dns_rcode="Refused"),
    ),
    (
        "servfail",
        "14:54:01.310200 IP 203.0.113.2.53 > 198.51.100.15.36355: 44093 ServFail 0/0/0 (39)",
        dict(dns_qr="response", dns_rcode="ServFail", dns_id=44093),
    ),
    (
        "tcp-syn",
        "14:54:37.929093 IP 203.0.113.2.domain > 198.51.100.15.41865: Flags [S.], seq "
        "800609698, ack 3089273614, win 65160, options [mss 1460,sackOK,TS val 3465045483 "
        "ecr 2238623474,nop,wscale 10], length 0",
        dict(
            proto="tcp",
            sport=53,
            dport=41865,
            tcp_flags="S.",
            tcp_seq="800609698",
            tcp_ack=3089273614,
            tcp_win=65160,
            length=0,
            dns_qr=None,
        ),
    ),
    (
        "dns-over-tcp",
        "14:54:37.929179 IP 198.51.100.15.41865 > 203.0.113.2.53: Flags [P.], seq 1:42, ack 1, "
        "win 64, options [nop,nop,TS val 2238623474 ecr 3465045483], length 41 13318+ A? "
        "yummyrecipesforme.com. (39)",
        dict(
            proto="tcp",
            tcp_flags="P.",
            tcp_seq="1:42",
            tcp_ack=1,
            tcp_win=64,
            length=41,
            dns_id=13318,
            dns_qr="query",
            dns_qname="yummyrecipesforme.com",
        ),
    ),
    (
        "quiet-udp",
        "14:54:36.902042 IP 198.51.100.15.49736 > 203.0.113.2.53: UDP, length 39",
        dict(proto="udp", sport=49736, dport=53, length=39, dns_qr=None),
    ),
    (
        "quiet-tcp",
        "14:54:37.929179 IP 198.51.100.15.41865 > 203.0.113.2.53: tcp 41",
        dict(proto="tcp", length=41, tcp_flags=None),
    ),
    (
        "arp-request",
        "14:54:36.902024 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28",
        dict(proto="arp", src="198.51.100.15", dst="198.51.100.1", length=28, sport=None),
    ),
    (
        "arp-reply-v",
        "14:54:36.902040 ARP, Ethernet (len 6), IPv4 (len 4), Reply 198.51.100.1 is-at "
        "02:00:00:00:01:01, length 28",
        dict(proto="arp", src="198.51.100.1", dst=None, length=28),
    ),
    (
        "link-level-e",
        "14:54:36.902042 02:00:00:00:00:15 > 02:00:00:00:01:01, ethertype IPv4 (0x0800), "
        "length 81: 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? yummyrecipesforme.com. (39)",
        dict(
            proto="udp",
            link_src="02:00:00:00:00:15",
            link_dst="02:00:00:00:01:01",
            src="198.51.100.15",
            dport=53,
            dns_qname="yummyrecipesforme.com",
            length=39,
        ),
    ),
    (
        "link-level-e-arp",
        "14:54:36.902024 02:00:00:00:00:15 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), "
        "length 42: Request who-has 198.51.100.1 tell 198.51.100.15, length 28",
        dict(
            proto="arp",
            link_src="02:00:00:00:00:15",
            link_dst="ff:ff:ff:ff:ff:ff",
            src="198.51.100.15",
            dst="198.51.100.1",
        ),
    ),
    (
        "verbose-e",
        "14:54:36.902210 02:00:00:00:01:01 > 02:00:00:00:00:15, ethertype IPv4 (0x0800), "
        "length 97: (tos 0x0, ttl 63, id 54197, offset 0, flags [DF], proto UDP (17), length 83)\n"
        "    203.0.113.2.53 > 198.51.100.15.49736: 38795* 1/0/0 yummyrecipesforme.com. "
        "A 203.0.113.80 (55)",
        dict(
            proto="udp",
            ttl=63,
            link_src="02:00:00:00:01:01",
            dns_qr="response",
            dns_answers="yummyrecipesforme.com. A 203.0.113.80",
            src="203.0.113.2",
        ),
    ),
    (
        "vv-response-with-question",
        "14:54:36.902210 IP (tos 0x0, ttl 63, id 54197, offset 0, flags [DF], proto UDP (17), "
        "length 83)\n    203.0.113.2.53 > 198.51.100.15.49736: [bad udp cksum 0x6696 -> "
        "0x55ff!] 38795* q: A? yummyrecipesforme.com. 1/0/0 yummyrecipesforme.com. A "
        "203.0.113.80 (55)",
        dict(
            proto="udp",
            ttl=63,
            dns_qr="response",
            dns_qtype="A",
            dns_qname="yummyrecipesforme.com",
            dns_ancount=1,
            dns_answers="yummyrecipesforme.com. A 203.0.113.80",
            length=55,
        ),
    ),
    (
        "vvv-answer-ttl",
        "14:54:36.902210 IP (tos 0x0, ttl 63, id 54197, offset 0, flags [DF], proto UDP (17), "
        "length 83)\n    203.0.113.2.53 > 198.51.100.15.49736: [bad udp cksum 0x6696 -> "
        "0x55ff!] 38795* q: A? yummyrecipesforme.com. 1/0/0 yummyrecipesforme.com. [0s] A "
        "203.0.113.80 (55)",
        dict(dns_qr="response", dns_answers="yummyrecipesforme.com. [0s] A 203.0.113.80"),
    ),
    (
        "epoch-tt",
        "1795532076.902042 IP 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? "
        "yummyrecipesforme.com. (39)",
        dict(time=T("2026-11-24 14:54:36.902042"), dns_id=38795),
    ),
    (
        "nano",
        "14:54:36.902042123 IP 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? "
        "yummyrecipesforme.com. (39)",
        dict(time=T(f"{DAY} 14:54:36.902042123"), dns_id=38795),
    ),
    (
        "numbered",
        "    8  14:54:36.902042 IP 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? "
        "yummyrecipesforme.com. (39)",
        dict(packet=8, time=T(f"{DAY} 14:54:36.902042"), dns_id=38795),
    ),
    (
        "date-tttt",
        "2026-11-24 14:50:12.938076 IP6 2001:db8:1::15.57328 > 2001:db8:2::2.53: 7135+ AAAA? "
        "yummyrecipesforme.com. (39)",
        dict(
            time=T("2026-11-24 14:50:12.938076"),
            proto="udp",
            src="2001:db8:1::15",
            sport=57328,
            dst="2001:db8:2::2",
            dport=53,
            dns_qtype="AAAA",
        ),
    ),
    (
        "no-timestamp-t",
        "IP 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? yummyrecipesforme.com. (39)",
        dict(time=None, proto="udp", dns_id=38795),
    ),
    (
        "icmp-port-unreachable-names",
        "14:49:24.229562 IP 203.0.113.2 > 198.51.100.15: ICMP 203.0.113.2 udp port domain "
        "unreachable, length 75",
        dict(
            proto="icmp",
            src="203.0.113.2",
            dst="198.51.100.15",
            sport=None,
            icmp_type=3,
            icmp_code=3,
            icmp_reason="port unreachable",
            icmp_orig_proto="udp",
            icmp_orig_dst="203.0.113.2",
            icmp_orig_dport=53,
            length=75,
        ),
    ),
    (
        "icmp-quoted-v",
        "14:49:24.229562 IP (tos 0xc0, ttl 63, id 30109, offset 0, flags [none], proto ICMP (1), "
        "length 95)\n    203.0.113.2 > 198.51.100.15: ICMP 203.0.113.2 udp port domain "
        "unreachable, length 75\n\tIP (tos 0x0, ttl 63, id 1781, offset 0, flags [none], "
        "proto UDP (17), length 67)\n    198.51.100.15.36900 > 203.0.113.2.domain: 41114+ A? "
        "yummyrecipesforme.com. (39)",
        dict(
            proto="icmp",
            ttl=63,
            icmp_type=3,
            icmp_code=3,
            icmp_orig_proto="udp",
            icmp_orig_src="198.51.100.15",
            icmp_orig_sport=36900,
            icmp_orig_dst="203.0.113.2",
            icmp_orig_dport=53,
            icmp_orig_dns_id=41114,
            dns_id=None,
            length=75,
        ),
    ),
    (
        "icmp-admin-prohibited-filter",
        "14:50:46.392733 IP 198.51.100.1 > 198.51.100.15: ICMP host 203.0.113.2 unreachable - "
        "admin prohibited filter, length 75",
        dict(
            proto="icmp",
            src="198.51.100.1",
            icmp_type=3,
            icmp_code=13,
            icmp_reason="admin prohibited filter",
            icmp_orig_dst="203.0.113.2",
            icmp_orig_dport=None,
        ),
    ),
    (
        "icmp-host-unreachable",
        "14:50:29.967071 IP 198.51.100.1 > 198.51.100.15: ICMP host 203.0.113.2 unreachable, "
        "length 75",
        dict(icmp_type=3, icmp_code=1, icmp_reason="host unreachable", icmp_orig_dst="203.0.113.2"),
    ),
    (
        "icmp-echo",
        "14:50:46.410278 IP 198.51.100.15 > 203.0.113.2: ICMP echo request, id 5415, seq 1, "
        "length 64",
        dict(
            proto="icmp",
            icmp_type=8,
            icmp_code=0,
            icmp_reason="echo request",
            icmp_orig_dst=None,
            length=64,
        ),
    ),
    (
        "seed-no-comma",
        "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
        "unreachable length 254",
        dict(proto="icmp", icmp_code=3, icmp_orig_dport=53, length=254),
    ),
    (
        "icmp6-port-unreachable",
        "14:50:12.938224 IP6 2001:db8:2::2 > 2001:db8:1::15: ICMP6, destination unreachable, "
        "unreachable port, 2001:db8:2::2 udp port 53, length 95",
        dict(
            proto="icmp6",
            src="2001:db8:2::2",
            icmp_type=1,
            icmp_code=4,
            icmp_reason="port unreachable",
            icmp_orig_proto="udp",
            icmp_orig_dst="2001:db8:2::2",
            icmp_orig_dport=53,
            length=95,
        ),
    ),
    (
        "icmp6-v-4.99-header",
        "14:50:12.938224 IP6 (flowlabel 0xa5914, hlim 63, next-header ICMPv6 (58) payload "
        "length: 95) 2001:db8:2::2 > 2001:db8:1::15: [icmp6 sum ok] ICMP6, destination "
        "unreachable, unreachable port, 2001:db8:2::2 udp port domain",
        dict(proto="icmp6", ttl=63, icmp_type=1, icmp_code=4, icmp_orig_dport=53),
    ),
    (
        # the same packet in tcpdump 5.0's -v wording ("next-header ICMPv6 (58), payload
        # length 95"), per the corpus README's list of 4.99/5.0 differences
        "icmp6-v-5.0-header",
        "14:50:12.938224 IP6 (flowlabel 0xa5914, hlim 63, next-header ICMPv6 (58), payload "
        "length 95) 2001:db8:2::2 > 2001:db8:1::15: [icmp6 sum ok] ICMP6, destination "
        "unreachable, unreachable port, 2001:db8:2::2 udp port domain",
        dict(proto="icmp6", ttl=63, icmp_type=1, icmp_code=4, icmp_orig_dport=53),
    ),
    (
        "ipv6-v-query",
        "14:50:12.938076 IP6 (flowlabel 0x8d180, hlim 64, next-header UDP (17) payload length: "
        "47) 2001:db8:1::15.57328 > 2001:db8:2::2.domain: [bad udp cksum 0x5bcc -> 0x8c3b!] "
        "7135+ AAAA? yummyrecipesforme.com. (39)",
        dict(
            proto="udp",
            ttl=64,
            src="2001:db8:1::15",
            sport=57328,
            dport=53,
            dns_qtype="AAAA",
            dns_id=7135,
        ),
    ),
    (
        "icmp6-multicast-listener",
        "14:49:23.439045 IP6 fe80::ff:fe00:15 > ff02::16: HBH ICMP6, multicast listener report "
        "v2, 1 group record(s), length 28",
        dict(proto="icmp6", icmp_type=143, src="fe80::ff:fe00:15", dst="ff02::16", length=28),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(text, expected):
    df = ik.parse_tcpdump(text, date=DAY)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["raw"] == text and row["line"] == 1 and row["record"] == 1
    for column, value in expected.items():
        got = row[column]
        if value is None:
            assert pd.isna(got), f"{column}: {got!r}"
        else:
            assert got == value, f"{column}: {got!r} != {value!r}"


def test_deltas_ttt_accumulate():
    text = (
        " 00:00:00.202947 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28\n"
        " 00:00:00.000016 ARP, Reply 198.51.100.1 is-at 02:00:00:00:01:01, length 28\n"
        " 00:00:00.000002 IP 198.51.100.15.49736 > 203.0.113.2.53: 38795+ A? "
        "yummyrecipesforme.com. (39)\n"
    )
    df = ik.parse_tcpdump(text, date=DAY)
    assert df.attrs["capture"]["time_format"] == "-ttt"
    start = T(DAY)
    assert df["time"].tolist() == [
        start + pd.Timedelta(microseconds=202947),
        start + pd.Timedelta(microseconds=202963),
        start + pd.Timedelta(microseconds=202965),
    ]


def test_deltas_ttttt_are_offsets_from_the_first():
    text = (
        " 00:00:00.566949 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28\n"
        " 00:00:00.566965 ARP, Reply 198.51.100.1 is-at 02:00:00:00:01:01, length 28\n"
        " 00:00:01.593976 IP 198.51.100.15.41865 > 203.0.113.2.53: Flags [S], seq 3089273613, "
        "win 64660, length 0\n"
    )
    df = ik.parse_tcpdump(text, date=DAY)
    assert df.attrs["capture"]["time_format"] == "-ttttt"
    assert df["time"].iloc[2] == T(DAY) + pd.Timedelta(seconds=1, microseconds=593976)
    forced = ik.parse_tcpdump(text, date=DAY, time_format="-ttt")
    assert forced["time"].iloc[2] == T(DAY) + pd.Timedelta(seconds=2, microseconds=727890)


def test_deltas_that_rise_with_one_small_step_back_are_still_offsets():
    # offsets from the first packet, one of them 13 us early (a reordered packet): -ttttt;
    # the gaps of a steady -ttt log go up and down as often, and add up
    offsets = [i * 10_000 for i in range(200)]
    offsets[100] = offsets[99] - 13
    lines = [
        f" 00:00:{us // 1_000_000:02d}.{us % 1_000_000:06d} ARP, Request who-has 198.51.100.1 "
        "tell 198.51.100.15, length 28"
        for us in offsets
    ]
    df = ik.parse_tcpdump("\n".join(lines) + "\n", date=DAY)
    assert df.attrs["capture"]["time_format"] == "-ttttt"
    assert df["time"].iloc[100] == T(DAY) + pd.Timedelta(microseconds=offsets[100])
    gaps = [10_000 + (7 if i % 2 else -7) for i in range(200)]
    lines = [
        f" 00:00:00.{us:06d} ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28"
        for us in gaps
    ]
    df = ik.parse_tcpdump("\n".join(lines) + "\n", date=DAY)
    assert df.attrs["capture"]["time_format"] == "-ttt"
    assert df["time"].iloc[-1] == T(DAY) + pd.Timedelta(microseconds=sum(gaps))


def test_rollover_past_midnight():
    text = (
        "23:59:59.900000 IP 198.51.100.15.49736 > 203.0.113.2.53: 1+ A? a.example. (27)\n"
        "00:00:00.100000 IP 203.0.113.2.53 > 198.51.100.15.49736: 1 NXDomain 0/0/0 (27)\n"
    )
    df = ik.parse_tcpdump(text, date=DAY)
    assert df["time"].tolist() == [T(f"{DAY} 23:59:59.9"), T("2026-11-25 00:00:00.1")]
    assert df.attrs["capture"]["midnight_rollovers"] == 1


def test_time_zone_localises_and_converts():
    line = "1795532076.902042 IP 198.51.100.15.49736 > 203.0.113.2.53: 1+ A? a.example. (27)"
    utc = ik.parse_tcpdump(line, tz="UTC")["time"].iloc[0]
    berlin = ik.parse_tcpdump(line, tz="Europe/Berlin")["time"].iloc[0]
    assert utc == berlin and str(berlin.tz) == "Europe/Berlin" and berlin.hour == 15
    local = ik.parse_tcpdump(
        line.replace("1795532076.902042", "14:54:36.902042"), date=DAY, tz="Europe/Berlin"
    )["time"].iloc[0]
    assert local.hour == 14 and local.tz is not None


@pytest.mark.parametrize("engine", ["c", "python"])
def test_invalid_timestamp_is_kept_as_nat_with_its_reason(engine):
    # tcpdump's own rendering of a pcap record of 1000000 microseconds (its regression
    # test timestamp_invalid_micro), dated, and a fraction of ten digits with no mark: no
    # time is read from either (never 0.1 s), and 'error' says why
    text = (
        "2016-03-14 17:16:09.999999 IP 192.0.2.69.46656 > 198.51.100.94.80: tcp 0\n"
        "2016-03-14 17:16:10.1000000 (invalid us) IP 198.51.100.94.80 > 192.0.2.69.46656: tcp 0\n"
        "17:16:10.2147483648 (invalid ns) IP 192.0.2.69.46656 > 198.51.100.94.80: tcp 0\n"
        "2016-03-14 17:16:10.1000000000 IP 192.0.2.69.46656 > 198.51.100.94.80: tcp 0\n"
        "1457975770.1234567891 IP 192.0.2.69.46656 > 198.51.100.94.80: tcp 0\n"
    )
    with pytest.warns(ik.ParseWarning, match="4 of 5 records .* marked invalid.* line 2"):
        df = ik.parse_tcpdump(text, date=DAY, engine=engine)
    assert df["proto"].tolist() == ["tcp"] * 5 and df["sport"].tolist()[:2] == [46656, 80]
    assert df.loc[0, "time"] == pd.Timestamp("2016-03-14 17:16:09.999999")
    assert df["time"].iloc[1:].isna().all()
    errors = df["error"].tolist()
    assert pd.isna(errors[0])
    assert all("tcpdump marks the time stamp invalid" in e for e in errors[1:3])
    assert all("fraction has more than 9 digits" in e for e in errors[3:])


def test_verbose_record_spans_lines_and_quoted_datagram_is_no_packet():
    text = (
        "14:49:24.229562 IP (tos 0xc0, ttl 63, id 30109, offset 0, flags [none], proto ICMP (1), "
        "length 95)\n    203.0.113.2 > 198.51.100.15: ICMP 203.0.113.2 udp port domain "
        "unreachable, length 75\n\tIP (tos 0x0, ttl 63, id 1781, offset 0, flags [none], "
        "proto UDP (17), length 67)\n    198.51.100.15.36900 > 203.0.113.2.domain: 41114+ A? "
        "yummyrecipesforme.com. (39)\n"
        "14:49:24.229974 IP (tos 0x0, ttl 64, id 27725, offset 0, flags [none], proto UDP (17), "
        "length 67)\n    198.51.100.15.34374 > 203.0.113.2.domain: 41114+ A? "
        "yummyrecipesforme.com. (39)\n"
    )
    df = ik.parse_tcpdump(text, date=DAY)
    assert df["proto"].tolist() == ["icmp", "udp"]
    assert df["line"].tolist() == [1, 5]
    assert (df["dns_qr"] == "query").sum() == 1
