"""The hash chain of the audit trail: the canonical form of a row, its hash, and the walk
that checks a chain. Pure: rows come in as mappings, findings go out; no ORM here.

Every audit row carries ``seq`` (1, 2, 3, … with no gaps), ``prev_hash`` (the ``row_hash`` of
the row with the previous ``seq``; :data:`GENESIS_HASH` for the first) and ``row_hash``:

    row_hash = sha256(canonical_row(row).encode("utf-8")).hexdigest()

``canonical_row`` is a JSON object of exactly the :data:`CHAIN_FIELDS`, written with keys sorted
by code point, no whitespace, strings as UTF-8 (not ``\\u`` escapes) and:

* ``at`` — the stored timestamp in UTC, ISO 8601 with microseconds:
  ``"2025-03-01T08:00:00.000000+00:00"``;
* ``before`` / ``after`` — the value as the database gives it back: first through
  ``json.dumps(cls=DjangoJSONEncoder)``/``json.loads`` (what the JSONField stores), then every
  number written as ``[-]<digits>e<exponent>`` with no trailing zeros in the digits (``0e0`` for
  zero), because PostgreSQL's ``jsonb`` reads ``1e+20`` back as ``100000000000000000000`` and
  ``5.0`` may come back as ``5``: the same number must hash the same on SQLite and PostgreSQL;
* ids (``actor_id``, ``organization_id``, ``contract_id``) and ``seq`` — numbers, as above;
  empty foreign keys and an absent IP address are ``null``.

Changing any of this breaks every existing chain: it is a file format, not an implementation
detail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64

CHAIN_FIELDS = (
    "at",
    "actor_id",
    "actor_repr",
    "organization_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip_address",
    "contract_id",
    "seq",
    "prev_hash",
)


def normalise_json(value: Any) -> Any:
    """``value`` as a JSONField stores and reads it back (Decimal → str, datetime → ISO …)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def canonical_at(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _number(value: int | float) -> str:
    # repr() of a float is the shortest text that reads back as the same float, which is also
    # the text PostgreSQL's numeric keeps.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return str(number)
    sign, digits, exponent = number.as_tuple()
    exponent = int(exponent)  # finite, so never "n"/"N"/"F"
    kept = list(digits)
    while len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if kept == [0]:
        return "0e0"
    return f"{'-' if sign else ''}{''.join(map(str, kept))}e{exponent}"


def canonical_json(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted((str(key), item) for key, item in value.items())
        members = (f"{json.dumps(key, ensure_ascii=False)}:{canonical_json(v)}" for key, v in items)
        return "{" + ",".join(members) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_row(row: Mapping[str, Any]) -> str:
    content = {name: row[name] for name in CHAIN_FIELDS}
    content["at"] = canonical_at(row["at"])
    content["before"] = normalise_json(row["before"])
    content["after"] = normalise_json(row["after"])
    content["ip_address"] = row["ip_address"] or None
    return canonical_json(content)


def row_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_row(row).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ the walk


class FindingKind:
    GAP = "gap"
    EDITED = "edited"
    BROKEN_LINK = "broken_link"
    BACKDATED = "backdated"
    GUARD = "guard"


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    seq: int | None = None
    event_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "event_id": self.event_id,
            "message": self.message,
        }


@dataclass
class ChainHead:
    """The newest row walked; write its hash down outside the database to anchor the chain."""

    seq: int = 0
    row_hash: str = GENESIS_HASH
    rows: int = 0


def walk_chain(rows: Iterable[Mapping[str, Any]], head: ChainHead) -> Iterator[Finding]:
    """Check rows given in ``seq`` order; yield one finding per defect, update ``head`` as it goes.

    Each row needs the :data:`CHAIN_FIELDS`, ``id`` and ``row_hash``.
    """
    previous: Mapping[str, Any] | None = None
    for row in rows:
        head.rows += 1
        seq, event_id = row["seq"], row["id"]
        expected_seq = previous["seq"] + 1 if previous else 1
        expected_link = previous["row_hash"] if previous else GENESIS_HASH
        if row_hash(row) != row["row_hash"]:
            yield Finding(
                FindingKind.EDITED,
                f"第 {seq} 条（ID {event_id}）的内容与其哈希不符：该记录被修改过。",
                seq,
                event_id,
            )
        if seq > expected_seq:
            missing = (
                f"第 {expected_seq} 条"
                if seq == expected_seq + 1
                else f"第 {expected_seq}–{seq - 1} 条"
            )
            yield Finding(
                FindingKind.GAP,
                f"序号缺失：{missing}不存在（在第 {seq} 条、ID {event_id} 之前），记录被删除。",
                seq,
                event_id,
            )
        elif row["prev_hash"] != expected_link:
            # After a gap the link is broken by the deletion already reported.
            yield Finding(
                FindingKind.BROKEN_LINK,
                f"第 {seq} 条（ID {event_id}）的前序哈希与上一条记录不符："
                "记录被插入、伪造或删除过。",
                seq,
                event_id,
            )
        if previous is not None and row["at"] < previous["at"]:
            yield Finding(
                FindingKind.BACKDATED,
                f"第 {seq} 条（ID {event_id}）的时间 {canonical_at(row['at'])} "
                f"早于上一条的 {canonical_at(previous['at'])}：时间被倒填。",
                seq,
                event_id,
            )
        previous = row
        head.seq, head.row_hash = seq, row["row_hash"]
