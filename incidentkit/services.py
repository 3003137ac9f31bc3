"""Port numbers and service names.

Without ``-n`` tcpdump prints ports by their service name (``203.0.113.2.domain``,
``udp port domain unreachable``), taken from the system's services database. The kit
maps them back to numbers with the table below (the IANA names of Debian's netbase
``/etc/services`` for the ports an incident analyst meets most) and, for any other name,
with the services database of the machine running the kit.
"""

from __future__ import annotations

import socket
from functools import lru_cache
from typing import Final

#: service name -> port number (IANA names, as tcpdump prints them).
WELL_KNOWN: Final[dict[str, int]] = {
    "tcpmux": 1,
    "echo": 7,
    "discard": 9,
    "daytime": 13,
    "ftp-data": 20,
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "time": 37,
    "whois": 43,
    "tacacs": 49,
    "domain": 53,
    "bootps": 67,
    "bootpc": 68,
    "tftp": 69,
    "gopher": 70,
    "finger": 79,
    "http": 80,
    "www": 80,
    "kerberos": 88,
    "pop3": 110,
    "sunrpc": 111,
    "auth": 113,
    "nntp": 119,
    "ntp": 123,
    "epmap": 135,
    "netbios-ns": 137,
    "netbios-dgm": 138,
    "netbios-ssn": 139,
    "imap2": 143,
    "imap": 143,
    "snmp": 161,
    "snmp-trap": 162,
    "xdmcp": 177,
    "bgp": 179,
    "irc": 194,
    "ldap": 389,
    "https": 443,
    "microsoft-ds": 445,
    "kpasswd": 464,
    "isakmp": 500,
    "syslog": 514,
    "printer": 515,
    "talk": 517,
    "ntalk": 518,
    "route": 520,
    "submission": 587,
    "ipp": 631,
    "ldaps": 636,
    "rsync": 873,
    "domain-s": 853,
    "ftps-data": 989,
    "ftps": 990,
    "telnets": 992,
    "imaps": 993,
    "pop3s": 995,
    "socks": 1080,
    "openvpn": 1194,
    "ms-sql-s": 1433,
    "l2f": 1701,
    "radius": 1812,
    "radius-acct": 1813,
    "nfs": 2049,
    "mysql": 3306,
    "ms-wbt-server": 3389,
    "sip": 5060,
    "sip-tls": 5061,
    "mdns": 5353,
    "postgresql": 5432,
    "x11": 6000,
    "http-alt": 8080,
    "afs3-fileserver": 7000,
    "afs3-callback": 7001,
    "afs3-prserver": 7002,
    "afs3-vlserver": 7003,
    "afs3-kaserver": 7004,
    "afs3-volser": 7005,
    "afs3-errors": 7006,
    "afs3-bos": 7007,
    "afs3-update": 7008,
    "afs3-rmtsys": 7009,
}

#: port number -> what an analyst calls the service on it.
SERVICE_NAMES: Final[dict[int, str]] = {
    22: "SSH",
    25: "SMTP",
    53: "DNS",
    67: "DHCP",
    68: "DHCP",
    80: "HTTP",
    123: "NTP",
    161: "SNMP",
    443: "HTTPS",
    853: "DNS over TLS",
    5353: "multicast DNS",
}


@lru_cache(maxsize=4096)
def port_number(token: str) -> int | None:
    """Return the port number a tcpdump port token stands for, or ``None``.

    Parameters
    ----------
    token : str
        A number (``"53"``) or a service name (``"domain"``).

    Examples
    --------
    >>> port_number("domain"), port_number("53"), port_number("no-such-service")
    (53, 53, None)
    """
    if token.isdigit():
        value = int(token)
        return value if value < 65536 else None
    if token in WELL_KNOWN:
        return WELL_KNOWN[token]
    for proto in ("udp", "tcp"):
        try:
            return socket.getservbyname(token, proto)
        except OSError:
            continue
    return None


def service_name(port: int) -> str:
    """Return the service an analyst would name for ``port`` (``"DNS"`` for 53).

    Examples
    --------
    >>> service_name(53), service_name(4444)
    ('DNS', 'port 4444')
    """
    return SERVICE_NAMES.get(int(port), f"port {int(port)}")
