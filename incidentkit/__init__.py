"""incidentkit: investigate network incidents from packet captures in Jupyter.

Data flows one way: tcpdump text or a capture file -> rows of one schema -> DNS
transactions and ICMP errors -> a diagnosis -> figures and the follow-up report.
"""

from .diagnose import Diagnosis, Hypothesis, ServerJudgement, diagnose
from .dns import dns_transactions
from .errors import IncidentkitError, InputError, ParseError, ParseWarning
from .evidence import Evidence, evidence
from .icmp import icmp_errors
from .parse import iter_tcpdump, parse_tcpdump, read, read_pcap, read_tcpdump
from .plot import plot_icmp_errors, plot_latency, plot_rate, plot_timeline
from .report import ReportError, reported_time, run_report, show
from .schema import COLUMNS, PROTOCOLS
from .story import Story
from .text import describe, summarize
from .traffic import traffic_rate
from .widgets import Explorer, explore

__all__ = [
    "COLUMNS",
    "PROTOCOLS",
    "Diagnosis",
    "Evidence",
    "Explorer",
    "Hypothesis",
    "IncidentkitError",
    "InputError",
    "ParseError",
    "ParseWarning",
    "ReportError",
    "ServerJudgement",
    "Story",
    "describe",
    "diagnose",
    "dns_transactions",
    "evidence",
    "explore",
    "icmp_errors",
    "iter_tcpdump",
    "parse_tcpdump",
    "plot_icmp_errors",
    "plot_latency",
    "plot_rate",
    "plot_timeline",
    "read",
    "read_pcap",
    "read_tcpdump",
    "reported_time",
    "run_report",
    "show",
    "summarize",
    "traffic_rate",
]
__version__ = "0.1.0"
