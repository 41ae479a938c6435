"""Pure-Python decision rules of collections_followup.

Nothing in this package imports ``odoo``: models read rows, call these
functions with plain values and write the results back. That keeps every rule
testable in milliseconds (see ``tests/`` at the repository root).
"""
from .aging import AGING_BUCKETS, aging_bucket, days_late
from .levels import (
    EXCHANGE_DIFFERENCE,
    ItemDecision,
    Ladder,
    Level,
    OpenItem,
    PartnerDecision,
    Reason,
    decide_partner,
    net_overdue,
    validate_levels,
)

__all__ = [
    "AGING_BUCKETS",
    "EXCHANGE_DIFFERENCE",
    "ItemDecision",
    "Ladder",
    "Level",
    "OpenItem",
    "PartnerDecision",
    "Reason",
    "aging_bucket",
    "days_late",
    "decide_partner",
    "net_overdue",
    "validate_levels",
]
