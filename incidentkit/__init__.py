"""incidentkit: investigate network incidents from packet captures in Jupyter.

Data flows one way: tcpdump text -> rows of one schema -> DNS transactions and ICMP
errors -> a diagnosis -> figures and the follow-up report.
"""

from .errors import IncidentkitError, InputError, ParseError, ParseWarning
from .parse import parse_tcpdump, read_tcpdump
from .schema import COLUMNS, PROTOCOLS

__all__ = [
    "COLUMNS",
    "PROTOCOLS",
    "IncidentkitError",
    "InputError",
    "ParseError",
    "ParseWarning",
    "parse_tcpdump",
    "read_tcpdump",
]
__version__ = "0.1.0"
