"""Resource keys: the identity that matches a cloud bill's ``ResourceId`` with a node's or a disk's provider ID.

Kubernetes and the cloud bill spell the same machine differently: a node's provider ID is
``aws:///us-east-1a/i-0abc``, ``gce://project/zone/name`` or ``azure:///subscriptions/.../virtualMachines/name``,
while the bill names it ``i-0abc``, ``arn:aws:ec2:us-east-1:123:instance/i-0abc``,
``//compute.googleapis.com/projects/p/zones/z/instances/name`` or ``/subscriptions/.../virtualMachines/name``.
The key of either is the lower-cased last non-empty segment when the text is cut at every ``/`` and ``:``, so all
of these give ``i-0abc`` (or ``name``). An Azure scale-set instance
(``.../virtualMachineScaleSets/<set>/virtualMachines/<n>``) ends in a bare instance number, which identifies
nothing on its own: its key is ``<set>/<n>``.

:func:`resource_key` works on one value, :func:`resource_key_expr` on a Polars column; both give the same key.
"""

from __future__ import annotations

import polars as pl

_SEPARATOR = "/"
_SCALE_SET = "virtualmachinescalesets"
_INSTANCES = "virtualmachines"


def _segments(value: str) -> list[str]:
    text = value.strip().lower().replace(":", _SEPARATOR)
    return [segment for segment in text.split(_SEPARATOR) if segment]


def resource_key(value: str | None) -> str | None:
    """The normalised identity of a provider ID or a bill ``ResourceId`` (None for None or a blank value)."""
    if value is None:
        return None
    segments = _segments(value)
    if not segments:
        return None
    if len(segments) >= 4 and segments[-2] == _INSTANCES and segments[-4] == _SCALE_SET:
        return f"{segments[-3]}{_SEPARATOR}{segments[-1]}"
    return segments[-1]


def resource_key_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`resource_key` of every value of a String column (or expression), as a String expression."""
    value = pl.col(column) if isinstance(column, str) else column
    segments = (
        value.str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(":", _SEPARATOR, literal=True)
        .str.split(_SEPARATOR)
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    last = segments.list.get(-1, null_on_oob=True)
    scale_set = (
        (segments.list.len() >= 4)
        & (segments.list.get(-2, null_on_oob=True) == _INSTANCES)
        & (segments.list.get(-4, null_on_oob=True) == _SCALE_SET)
    )
    return (
        pl.when(scale_set)
        .then(pl.concat_str(segments.list.get(-3, null_on_oob=True), pl.lit(_SEPARATOR), last))
        .otherwise(last)
    )


__all__ = ["resource_key", "resource_key_expr"]
