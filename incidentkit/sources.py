"""Which input saw what: a site's sensors judged together, each one's share told apart.

A frame read from several inputs (``incidentkit.read([...])``, ``incidentkit.dask``)
has a ``source`` column. The diagnosis judges all of them together; this module adds,
per input, what it saw of the server judged, so a report can say which sensor saw the
failure and which did not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import schema
from .evidence import Evidence, ServerEvidence, Settings, evidence

if TYPE_CHECKING:
    from .diagnose import Diagnosis


def sources_evidence(df: pd.DataFrame, settings: Settings) -> dict[str, Evidence]:
    """Each input's settled evidence, by name, for a frame of two inputs or more (an empty
    dict for a frame without a ``source`` column or with one input)."""
    if schema.SOURCE not in df.columns:
        return {}
    source = df[schema.SOURCE]
    codes = source.cat.codes.to_numpy()
    names = source.cat.categories.tolist()
    present = sorted(set(codes.tolist()) - {-1})
    if len(present) < 2:
        return {}
    return {names[c]: evidence(df.loc[codes == c], settings, settled=True) for c in present}


def seen_by(sources: dict[str, Evidence], d: Diagnosis, settings: Settings) -> list[dict[str, Any]]:
    """Per input: its packets, its time span, and what became of the queries to the
    server the diagnosis judged (counted as the diagnosis counts them: the site's queries
    only when a domain was given and the site was queried)."""
    site_only = settings.domain is not None and any(
        site and s.queries for ev in sources.values() for (_, _, _, site), s in ev.servers.items()
    )
    out = []
    for name, ev in sources.items():
        s = ServerEvidence()
        for (addr, port, transport, site), one in ev.servers.items():
            judged = (addr, port, transport) == (d.server, d.port, d.protocol)
            if judged and (site or not site_only):
                s = s + one
        out.append(
            {
                "source": name,
                "packets": ev.packets,
                "start": None if ev.start is None else ev.start.isoformat(),
                "end": None if ev.end is None else ev.end.isoformat(),
                "queries": s.queries,
                "answered": s.answered,
                "errors": sum(s.errors.values()),
                "icmp_errors": sum(s.icmp.values()),
                "no_response": s.silent,
                "clients": len(s.clients),
                "server_sent": ev.sent.get(d.server, 0) if d.server else 0,
            }
        )
    return out
