"""Readers: each turns one kind of input into the frame of :mod:`incidentkit.schema`."""

from .pcap import read, read_pcap
from .stream import iter_tcpdump
from .tcpdump import DEFAULT_DATE, parse_tcpdump, read_tcpdump

__all__ = ["DEFAULT_DATE", "iter_tcpdump", "parse_tcpdump", "read", "read_pcap", "read_tcpdump"]
