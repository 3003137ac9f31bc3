"""Errors and warnings that carry their facts."""

from __future__ import annotations


class IncidentkitError(Exception):
    """Base class of every error incidentkit raises on purpose."""


class InputError(IncidentkitError, ValueError):
    """The input is not something this reader can read (binary, missing, ...).

    The message says what the input looks like and what to use instead.
    """


class ParseError(IncidentkitError, ValueError):
    """A line is no tcpdump record (raised only with ``strict=True``).

    Attributes
    ----------
    line_no : int
        1-based line number in the input.
    text : str
        The line as it was read.
    reason : str
        Why it is not a record.
    """

    def __init__(self, line_no: int, text: str, reason: str) -> None:
        self.line_no = line_no
        self.text = text
        self.reason = reason
        shown = text if len(text) <= 200 else text[:200] + f"... ({len(text)} characters)"
        super().__init__(f"line {line_no}: {reason}: {shown!r}")


class ParseWarning(UserWarning):
    """Some lines were kept as ``unparsed`` rows; the message says how many."""
