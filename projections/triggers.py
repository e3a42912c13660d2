"""Statement-level triggers with transition tables, as the read side keeps its summaries and its
change log: one trigger per kind of write, each seeing the rows it wrote as ``new_rows`` and the rows
it replaced or removed as ``old_rows``, so one statement's thousand rows cost one call, not a thousand."""

from __future__ import annotations

__all__ = ["statement_triggers"]

_TRANSITIONS = (
    ("INSERT", "NEW TABLE AS new_rows"),
    ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("DELETE", "OLD TABLE AS old_rows"),
)


def statement_triggers(table: str, name: str, function: str) -> list[str]:
    """The statements (re)creating ``name_insert``, ``name_update`` and ``name_delete`` on ``table``
    (schema-qualified), each calling ``function``."""
    statements = []
    for event, transitions in _TRANSITIONS:
        trigger = f"{name}_{event.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {transitions}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements
