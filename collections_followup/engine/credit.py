"""Credit exposure and the credit check behind holds and blocked documents.

Rules (README.md, "Credit limits and holds"):

* Exposure = open posted receivables + draft customer invoices + confirmed
  sales orders not yet invoiced, in company currency.
* A limit of 0 means no limit.
* A customer on hold is blocked whatever the amounts.
* Over the limit (exposure + the new document > limit): blocked when the
  policy blocks, a warning otherwise.
* The banner is red on hold or over the limit, amber from 90 % of the limit or
  with overdue invoices, otherwise nothing.
"""
from dataclasses import dataclass
from decimal import Decimal

AMBER_RATIO = Decimal("0.9")


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


@dataclass(frozen=True)
class Exposure:
    receivable: Decimal
    draft_invoices: Decimal
    orders: Decimal

    @property
    def total(self) -> Decimal:
        # Callers mix the ledger's exact Decimals with the ORM's floats.
        return _dec(self.receivable) + _dec(self.draft_invoices) + _dec(self.orders)


@dataclass(frozen=True)
class CreditCheck:
    status: str  # "ok", "warn" or "block"
    reason: str  # "", "hold" or "over_limit"
    exposure_after: Decimal
    limit: Decimal
    excess: Decimal


def credit_check(limit, exposure, amount=0, on_hold=False, block_over_limit=False) -> CreditCheck:
    """May a new document of ``amount`` go ahead for this customer?"""
    limit = _dec(limit)
    after = _dec(exposure) + _dec(amount)
    excess = max(after - limit, Decimal(0)) if limit > 0 else Decimal(0)
    if on_hold:
        return CreditCheck("block", "hold", after, limit, excess)
    if excess > 0:
        return CreditCheck("block" if block_over_limit else "warn", "over_limit", after, limit, excess)
    return CreditCheck("ok", "", after, limit, excess)


def credit_state(limit, exposure, overdue, on_hold=False) -> str:
    """Colour of the credit banner: "red", "amber" or "" (nothing to say)."""
    limit = _dec(limit)
    exposure = _dec(exposure)
    if on_hold or (limit > 0 and exposure > limit):
        return "red"
    if (limit > 0 and exposure >= limit * AMBER_RATIO) or _dec(overdue) > 0:
        return "amber"
    return ""
