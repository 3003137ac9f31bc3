"""Readers: each turns one kind of input into the frame of :mod:`incidentkit.schema`."""

from .tcpdump import DEFAULT_DATE, parse_tcpdump, read_tcpdump

__all__ = ["DEFAULT_DATE", "parse_tcpdump", "read_tcpdump"]
