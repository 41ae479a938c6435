"""Days late and aging buckets."""
from datetime import date

# (key, label, first day late, last day late or None for open-ended)
AGING_BUCKETS = (
    ("not_due", "Not due", None, 0),
    ("1_30", "1-30", 1, 30),
    ("31_60", "31-60", 31, 60),
    ("61_90", "61-90", 61, 90),
    ("91_120", "91-120", 91, 120),
    ("over_120", "Over 120", 121, None),
)


def days_late(due_date: date, today: date) -> int:
    """Days between the due date and today; negative while not yet due."""
    return (today - due_date).days


def aging_bucket(late: int) -> str:
    """Key of the aging bucket for a number of days late."""
    for key, _label, low, high in AGING_BUCKETS:
        if (low is None or late >= low) and (high is None or late <= high):
            return key
    raise AssertionError("aging buckets must cover every integer")  # pragma: no cover
