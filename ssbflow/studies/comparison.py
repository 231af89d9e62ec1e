"""The source study side by side: one :class:`ClaimRow` per claim of a study's source paper.

Every study's report has a ``source_comparison`` list in ``results.json`` and a table in
``report.md`` (:func:`comparison_markdown`). Each study computes its rows from its own
results document with a pure function ``source_comparison(results) -> list[ClaimRow]``
(``ssbflow.studies.<study>.comparison``); the published numbers are those collected in the
project's reference notes (shared/reference/science.md). ``agrees`` is computed from the
numbers with the criterion stated in ``why``; it is ``None`` where the package does not
compute the quantity. The ``screening`` study reproduces no source study and has no rows.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ssbflow.io import write_table

#: Title of the report section (also the Markdown table's heading).
TITLE = "Source study side by side"


class ClaimRow(BaseModel):
    """One claim of a source study next to what the package computed.

    Attributes
    ----------
    claim : the claim, with the unit of the values when they are numbers.
    source_value : the published value or statement.
    ssbflow_value : the value computed here (a number in the claim's unit, or a short text);
        ``None`` when not computed.
    agrees : ``True``/``False`` by the criterion given in ``why``; ``None`` when the package
        does not compute the quantity (or what it computed is not that quantity).
    why : the criterion, the source, and where the computed quantity differs from the
        study's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str
    source_value: float | str
    ssbflow_value: float | str | None = None
    agrees: bool | None = Field(None, description="None: not computed here.")
    why: str


def finite(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing or not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def within(value: float | None, reference: float, tolerance: float) -> bool | None:
    """``|value − reference| <= tolerance``; ``None`` when ``value`` is missing."""
    return None if value is None else bool(abs(value - reference) <= tolerance)


def in_band(value: float | None, stderr: float | None, lo: float, hi: float,
            k: float = 2.0) -> tuple[bool | None, str]:
    """Whether a positive ``value`` ± ``stderr`` (a ratio, slope or D) lies in the band
    ``lo`` <= x <= ``hi`` (``hi`` may be ``inf``), and the interval as text.

    The interval is ``value`` ×/÷ exp(k·stderr/value) (log-normal: it stays positive,
    as an Arrhenius extrapolation's error does). True when all of it lies in the band, False
    when none of it does, ``None`` (not resolved by the run) when it straddles an edge;
    without ``stderr`` the value alone decides (and the text is empty).
    """
    value, stderr = finite(value), finite(stderr)
    if value is None:
        return None, ""
    if value <= 0:
        return False, ""
    if stderr is None:
        return bool(lo <= value <= hi), ""
    factor = math.exp(k * abs(stderr) / value)
    low, high = value / factor, value * factor
    text = f"{k:g}-standard-error interval {low:.3g}–{high:.3g}"
    if lo <= low and high <= hi:
        return True, text
    if high < lo or low > hi:
        return False, text
    return None, f"{text} straddles the band edge: not resolved by this run, no verdict"


def rows_as_dicts(rows: list[ClaimRow]) -> list[dict[str, Any]]:
    """The rows as plain dictionaries (what ``results.json`` holds)."""
    return [row.model_dump() for row in rows]


def _agrees_text(agrees: bool | None) -> str:
    return "n/a" if agrees is None else ("yes" if agrees else "no")


def _cell_text(value: Any) -> Any:
    # a "|" inside a cell would end it
    return value.replace("|", "\\|") if isinstance(value, str) else value


def comparison_markdown(rows: list[ClaimRow | dict[str, Any]]) -> str:
    """The rows as a Markdown section: a ``## TITLE`` line and the table
    (``ssbflow.io.write_table``; ``agrees`` as yes / no / n/a, the reason in ``why``)."""
    table = []
    for row in rows:
        data = row.model_dump() if isinstance(row, ClaimRow) else dict(row)
        data["agrees"] = _agrees_text(data["agrees"])
        table.append({k: _cell_text(data[k]) for k in ClaimRow.model_fields})
    return f"## {TITLE}\n\n" + write_table(table)


def add_source_comparison(doc: dict[str, Any], rows: list[ClaimRow]) -> str:
    """Put ``rows`` into ``doc["source_comparison"]`` and return their Markdown table."""
    doc["source_comparison"] = rows_as_dicts(rows)
    return comparison_markdown(rows)
