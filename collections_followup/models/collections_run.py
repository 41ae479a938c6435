import logging
from collections import defaultdict
from datetime import timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from ..engine.contact import next_contact, next_step_contact, normalize_phone
from ..engine.errors import RuleError
from ..engine.fees import (
    FeeError,
    allocate_credits,
    late_fee,
    reduce_balances,
    statutory_interest,
)
from .collections_action import SCHEDULER_CHANNELS
from .collections_guard import server

_logger = logging.getLogger(__name__)

# Advisory lock namespace of the follow-up run: a customer being handled by
# one worker is skipped by the others (pg_try_advisory_xact_lock).
LOCK_NAMESPACE = 712_1001
# The unique index behind "one scheduler entry per customer, day and channel".
ONCE_A_DAY_INDEX = "collections_action_scheduler_once_a_day"

# Channels that reach the customer: the level counts as sent once one of them went out.
REMINDER_CHANNELS = {"email", "sms", "letter"}
# Channels sent at a moment, under the contact rules (letters go by post, calls are tasks).
TIMED_CHANNELS = {"email", "sms"}
# Contact history channels as the engine names them.
HISTORY_CHANNELS = {"email": "email", "sms": "sms", "letter": "letter", "phone": "call"}


class CollectionsRun(models.AbstractModel):
    """Executes follow-ups: the daily scheduler and the manual wizard share it.

    Why its sudo() calls are safe: every method here is private (a leading
    underscore: not callable over RPC) and its callers already decided who may
    act: the scheduled actions (superuser), the send and call wizards (their
    models are collectors-only), the managers' "Run Follow-ups Now" server
    action. Each sudo() reads or writes only the customer, invoices, log
    entries and documents of the follow-up being executed, and nothing it
    reads is returned to the caller beyond the log entries it created (which
    the caller's own access rules then govern)."""

    _name = "collections.run"
    _description = "Follow-up Run"

    _batch_size = 100
    _decision_chunk_size = 2000

    # ------------------------------------------------------------------
    # Scheduler
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_followups(self, start=0.0):
        """The daily run. ``start``: where in the list of customers this worker begins (0: the
        first, 0.5: halfway round), for the extra scheduled actions that share a large book: each
        worker goes round the whole list, skipping the customers another one holds or handled."""
        if not 0 <= start < 1:
            raise UserError(self.env._("The start of a follow-up worker is a fraction from 0 up to 1 (excluded), "
                                       "not %s.", start))
        today = fields.Date.context_today(self)
        # Companies without a default policy have nothing configured to send.
        policies = self.env["collections.policy"].search([("is_default", "=", True)])
        for company in policies.company_id:
            self.with_company(company)._run_company(company, today, start=start)

    @api.model
    def _cron_run_waiting(self):
        """Hourly: send the follow-ups whose contact-rule wait is over."""
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        policies = self.env["collections.policy"].search([("is_default", "=", True)])
        for company in policies.company_id:
            partner_ids = self._wait_over(company, now)
            if partner_ids:
                self.with_company(company)._run_company(company, today, now=now, partner_ids=partner_ids)

    def _wait_over(self, company, now):
        """Customers whose latest scheduler entry is a contact-rule wait that ended in the last day
        (older ones are the daily run's again: it skips only the waits still running)."""
        Action = self.env["collections.action"].sudo()
        waits = Action.search([
            ("company_id", "=", company.id), ("channel", "=", "contact_wait"),
            ("postponed_until", "<=", now), ("postponed_until", ">", now - timedelta(days=1)),
        ])
        if not waits:
            return set()
        latest = dict(Action._read_group(
            [("company_id", "=", company.id), ("partner_id", "in", waits.partner_id.ids), ("origin", "=", "scheduler"),
             ("channel", "in", (*SCHEDULER_CHANNELS, "contact_wait"))],
            ["partner_id"], ["id:max"],
        ))
        return {wait.partner_id.id for wait in waits if latest.get(wait.partner_id) == wait.id}

    def _waiting(self, company, now):
        """Customers whose follow-up waits for the contact rules beyond ``now`` (skipped by the run)."""
        groups = self.env["collections.action"].sudo()._read_group(
            [("company_id", "=", company.id), ("channel", "=", "contact_wait"), ("postponed_until", ">", now)],
            ["partner_id"],
        )
        return {partner.id for (partner,) in groups}

    @api.model
    def _run_company(self, company, today, now=None, partner_ids=None, start=0.0):
        """Send today's due follow-ups of one company, in committed batches.

        Idempotent: a customer handled by the scheduler today has a log entry
        dated today and is skipped; the log entry, the queued email and the
        invoices' new levels are written in the same transaction. ``now``: the
        moment the contact rules are checked against (default: now).
        ``partner_ids``: only these customers (the hourly run of the waits). ``start``: see
        _cron_run_followups; the first worker (0) also reviews the credit holds."""
        now = now or fields.Datetime.now()
        Partner = self.env["res.partner"].with_company(company)
        in_cron = bool(self.env.context.get("cron_id"))
        sent = due_count = 0
        # Customers per committed batch (a system parameter lets big books tune it).
        size = int(self.env["ir.config_parameter"].sudo().get_param(
            "collections_followup.run_batch_size", self._batch_size) or self._batch_size)
        stopped = False
        # Decided a chunk of customers at a time, and sent before the next chunk is decided:
        # the run's memory does not grow with the book.
        for decisions in self._decision_chunks(company, today, now, partner_ids, start=start):
            due = [pid for pid, (_policy, decision) in decisions.items() if decision.status == "action"]
            due_count += len(due)
            if in_cron:
                self.env["ir.cron"]._commit_progress(remaining=len(due))
            for batch in split_every(max(size, 1), due):
                mine = self._lock_partners(batch)
                mine -= self._handled_by_others(company, today, mine)
                for partner in Partner.browse(sorted(mine)):
                    policy, decision = decisions[partner.id]
                    self._execute_safely(partner, policy, decision, "scheduler", today, now=now)
                    sent += 1
                if in_cron and not self.env["ir.cron"]._commit_progress(len(batch)):
                    stopped = True
                    break
            if stopped:
                break
            # What this chunk loaded is not needed by the next one.
            self.env.invalidate_all(flush=True)
        if partner_ids is None and not start:
            # The daily run reviews every hold (its first worker: once); the hourly run of the
            # waits only sends.
            self.env["res.partner"]._collections_refresh_holds(company, today)
        _logger.info("Follow-up run for %s: %d customers due, %d handled", company.name, due_count, sent)
        return sent

    def _decision_chunks(self, company, today, now=None, partner_ids=None, start=0.0):
        """The decision phase of the run, a chunk of customers at a time: yields
        {partner id: (policy, PartnerDecision)} for the customers with open receivables,
        less those handled today and those waiting for the contact rules. Per chunk: one
        query for the open items, one for the delays of the levels they reached (when any)
        and one for the customers' settings; the candidates, the pauses, today's entries and
        the waits are read once for the whole run. ``start``: the
        fraction of the (sorted) customers to begin at, going round to those before it."""
        Partner = self.env["res.partner"].with_company(company)
        candidates = self._open_partner_ids(company, partner_ids)
        candidates -= self._handled_today(company, today) | self._waiting(company, now or fields.Datetime.now())
        pauses = self.env["collections.ledger"]._pauses(company)
        ordered = sorted(candidates)
        first = int(len(ordered) * start)
        for chunk in split_every(self._decision_chunk_size, ordered[first:] + ordered[:first]):
            items = self.env["collections.ledger"]._open_items(company, chunk, pauses=pauses)
            # The reasons of the customers acted on are stored with their log entries.
            yield Partner.browse(chunk)._collections_decide(company, today, items=items, explain="action")

    def _decide_all(self, company, today, now=None, partner_ids=None):
        """All the run's decisions in one dict (for one customer's screens and the tests)."""
        decisions = {}
        for chunk in self._decision_chunks(company, today, now, partner_ids):
            decisions.update(chunk)
        return decisions

    def _open_partner_ids(self, company, partner_ids=None):
        """Commercial partners that may have an open receivable in ``company`` (among ``partner_ids``).

        Read from Odoo's partial index of unreconciled journal items (account, partner), without
        the table: a superset (draft entries, zero residuals), which the chunks' queries narrow to
        the exact open items. On 200,000 invoices this is 2.5 times cheaper than applying the
        exact condition here (make bench)."""
        Account = self.env["account.account"]
        # sudo: configuration (which accounts are receivable in the company and its parents).
        accounts = Account.sudo().search([
            ("account_type", "=", "asset_receivable"), *Account._check_company_domain(company),
        ]).ids
        self.env["account.move.line"].flush_model(["account_id", "partner_id", "reconciled"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        where = SQL("TRUE") if partner_ids is None else SQL("partner.commercial_partner_id = ANY(%s)",
                                                            list(partner_ids))
        rows = self.env.execute_query(SQL(
            """
            SELECT DISTINCT partner.commercial_partner_id
              FROM res_partner partner
             WHERE partner.id IN (SELECT line.partner_id
                                    FROM account_move_line line
                                   WHERE line.account_id = ANY(%s) AND line.reconciled IS NOT TRUE)
               AND %s
            """, accounts, where,
        ))
        return {row[0] for row in rows}

    @api.model
    def _action_run_now(self):
        """Start the daily run in the background now (managers' menu)."""
        self.env.ref("collections_followup.ir_cron_collections_run")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Follow-up run started"),
                "message": self.env._("Today's follow-ups are being sent in the background; see the Collections Log."),
                "type": "success",
                "sticky": False,
            },
        }

    def _handled_today(self, company, today, partner_ids=None):
        domain = [
            ("company_id", "=", company.id),
            ("action_date", "=", today),
            ("origin", "=", "scheduler"),
            ("channel", "in", SCHEDULER_CHANNELS),
        ]
        if partner_ids is not None:
            domain.append(("partner_id", "in", list(partner_ids)))
        groups = self.env["collections.action"].sudo()._read_group(domain, ["partner_id"])
        return {partner.id for (partner,) in groups}

    def _handled_by_others(self, company, today, partner_ids):
        """Customers of ``partner_ids`` (locked by us) that another worker handled today.

        Read in a new transaction: this one's snapshot (PostgreSQL repeatable read,
        Odoo's default) may predate the other worker's commit that released the lock."""
        if not partner_ids:
            return set()
        with self.env.registry.cursor() as cr:
            return self.with_env(self.env(cr=cr))._handled_today(company, today, partner_ids)

    def _lock_partners(self, partner_ids):
        """Customers of this batch no other worker is handling right now."""
        rows = self.env.execute_query(SQL(
            "SELECT id FROM unnest(%s::int[]) AS id WHERE pg_try_advisory_xact_lock(%s, id)",
            list(partner_ids), LOCK_NAMESPACE,
        ))
        return {row[0] for row in rows}

    def _execute_safely(self, partner, policy, decision, origin, today, now=None):
        """Execute one customer's follow-up; a failure is logged, never fatal to the run."""
        level = self.env["collections.level"].browse(decision.level_id)
        try:
            with self.env.cr.savepoint():
                return self._execute(partner, policy, level, decision, origin, today, now=now)
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != ONCE_A_DAY_INDEX:
                raise
            # Last line of defence: another worker handled the customer in the meantime;
            # everything of ours for it was rolled back with the savepoint.
            _logger.warning("Follow-up of partner %s already done today by another worker", partner.id)
            return self.env["collections.action"]
        except Exception as error:
            if isinstance(error, UserError):
                # A configuration the users can fix; the log entry says what to do.
                _logger.warning("Follow-up of partner %s not sent: %s", partner.id, error)
            else:
                _logger.exception("Follow-up of partner %s failed", partner.id)
            return self._log(
                partner, policy, level, "email", origin, today,
                move_ids=decision.listed_move_ids, decision=decision,
                state="failed", failure_reason=str(error),
            )

    # ------------------------------------------------------------------
    # Execution of one customer's follow-up
    # ------------------------------------------------------------------

    def _execute(self, partner, policy, level, decision, origin, today, email=None, channels=None, now=None):
        """Execute ``level`` for ``partner``: the only place that contacts customers.

        ``email``: optional {'subject', 'body'} edited by a collector.
        ``channels``: subset of {'email', 'sms', 'letter', 'call'} to execute (default: the level's).
        ``now``: the moment of the scheduler's contact rules (collectors sending by hand decide themselves).
        Returns the collections.action records created."""
        partner = partner.sudo()  # scheduler and collectors act on behalf of the company
        level = level.sudo()
        if channels is None:
            channels = {
                name for name, flag in (
                    ("email", level.send_email), ("sms", level.send_sms), ("letter", level.print_letter),
                    ("call", level.create_activity),
                ) if flag
            }
        if origin == "scheduler" and level.manual_review:
            return self._request_review(partner, policy, level, decision, today)
        actions = self.env["collections.action"]
        # The customer's own choice first: an opted-out channel is never used (and logged as such).
        blocked = self._blocked_channels(partner, channels)
        for channel, reason in blocked.items():
            actions |= self._log(
                partner, policy, level, channel, origin, today, decision.listed_move_ids, decision,
                state="blocked", failure_reason=reason,
            )
        channels = set(channels) - set(blocked)
        if origin == "scheduler" and channels & TIMED_CHANNELS:
            wait = self._contact_wait(partner, policy, level, decision, today, now, channels & TIMED_CHANNELS)
            if wait:
                return actions | wait
        if blocked and not channels & REMINDER_CHANNELS and set(blocked) & REMINDER_CHANNELS:
            # Nothing can reach the customer: the collector decides what to do.
            self._ask_contact_fix(partner, policy, actions[:1], today, kind="opted_out")
            return actions
        reached = False
        # Late fees are worked out first so that the reminder announces them,
        # and charged only once the reminder has gone out.
        fees = self._fees_due(partner, policy, level, decision, origin, today) if channels & {"email", "letter"} else []
        announcing = self.with_context(collections_fee_lines=tuple(
            (fee["move"].name, float(fee["amount"]), fee["days_late"]) for fee in fees
        ))
        if "email" in channels:
            action = announcing._send_email(partner, policy, level, decision, origin, today, email)
            actions |= action
            reached |= action.state == "done"
        if "sms" in channels:
            action = self._send_sms(partner, policy, level, decision, origin, today)
            actions |= action
            reached |= action.state == "done"
        if "letter" in channels:
            action = announcing._make_letter(partner, policy, level, decision, origin, today)
            actions |= action
            reached |= action.state == "done"
        if fees and reached:
            actions |= self._charge_fees(partner, policy, fees, origin, today)
        if "call" in channels:
            actions |= self._create_call(partner, policy, level, decision, origin, today, now=now)
        if level.escalate:
            actions |= self._escalate(partner, policy, level, decision, origin, today)
        if level.credit_hold and not partner.with_company(self.env.company).collections_credit_hold:
            partner._collections_set_hold(
                self.env._("follow-up level '%s' reached", level.name), "level", self.env.company, level,
            )
        if not channels & REMINDER_CHANNELS and not set(blocked) & REMINDER_CHANNELS:
            reached = True
        if reached:
            self._advance(decision, level, today, origin)
        elif channels & REMINDER_CHANNELS:
            failed = actions.filtered(lambda a: a.state == "failed")
            # The first broken channel, in the order the level uses them, says what to fix.
            kind, first = next(
                ((kind, failed.filtered(lambda a, c=channel: a.channel == c)[:1])
                 for channel, kind in (("email", "email"), ("sms", "sms"), ("letter", "address"))
                 if channel in failed.mapped("channel")),
                ("email", failed[:1]),
            )
            self._ask_contact_fix(partner, policy, first, today, kind=kind)
        return actions

    # --- contact rules ----------------------------------------------------

    def _blocked_channels(self, partner, channels, phone_blacklist=None):
        """{channel: reason} of the channels the customer opted out of. ``phone_blacklist``: the
        blacklisted numbers among those of many customers, when the caller read them at once."""
        commercial = partner.commercial_partner_id
        blocked = {}
        if "email" in channels:
            if commercial.collections_no_email:
                blocked["email"] = self.env._("The customer asked not to receive payment reminders by email.")
            elif commercial.email_normalized and commercial.is_blacklisted and not partner._collections_recipients():
                blocked["email"] = self.env._("The customer's email address is on the email blacklist (opted out).")
        if "sms" in channels:
            if commercial.collections_no_sms:
                blocked["sms"] = self.env._("The customer asked not to receive text messages.")
            else:
                number, _error = self._sms_number(commercial)
                if number and (number in phone_blacklist if phone_blacklist is not None else
                               self.env["phone.blacklist"].sudo().search_count([("number", "=", number)], limit=1)):
                    blocked["sms"] = self.env._("The customer's phone number is on the phone blacklist (opted out).")
        if "call" in channels and commercial.collections_no_call:
            blocked["call"] = self.env._("The customer asked not to be called about payments.")
        if "letter" in channels and commercial.collections_no_letter:
            blocked["letter"] = self.env._("The customer asked not to receive reminder letters.")
        return blocked

    def _customer_tz(self, partner):
        return partner.commercial_partner_id.tz or partner.tz or self.env.company.partner_id.tz or "UTC"

    def _contact_history(self, partner, since):
        """[(engine channel, aware datetime)] of the reminders and calls that reached the customer since ``since``."""
        return self._contact_histories(partner.commercial_partner_id.ids, since)[partner.commercial_partner_id.id]

    def _contact_histories(self, partner_ids, since):
        """{commercial partner id: its _contact_history} for many customers, one query."""
        actions = self.env["collections.action"].sudo().search_fetch([
            ("partner_id", "in", list(partner_ids)), ("company_id", "=", self.env.company.id),
            ("state", "=", "done"), ("channel", "in", list(HISTORY_CHANNELS)), ("date", ">=", since),
        ], ["partner_id", "channel", "date"])
        histories = {partner_id: [] for partner_id in partner_ids}
        for action in actions:
            histories[action.partner_id.id].append(
                (HISTORY_CHANNELS[action.channel], action.date.replace(tzinfo=timezone.utc)))
        return histories

    def _rules_wait(self, partner, policy, channels, now=None, history=None):
        """None when the policy's contact rules allow ``channels`` at ``now``, else
        (allowed instant, local time string, tz, reasons as text). ``history``: the customer's
        contact history when the caller read it for many customers (long enough: older entries
        change nothing)."""
        rules = policy._contact_policy()
        if not rules:
            return None
        moment = (now or fields.Datetime.now()).replace(tzinfo=timezone.utc)
        tz = self._customer_tz(partner)
        # History long enough for both the caps' window and the minimum gap.
        lookback = max(timedelta(days=rules.window_days), timedelta(hours=rules.min_gap_hours))
        since = (moment - lookback - timedelta(days=1)).replace(tzinfo=None)
        try:
            if history is None:
                history = self._contact_history(partner, since)
            allowed, reasons = next_step_contact(moment, tz, rules, channels, history)
        except RuleError as error:
            raise UserError(self.env._(
                "The contact rules of policy '%(policy)s' cannot be applied: %(error)s", policy=policy.name,
                error=error,
            )) from error
        if allowed <= moment:
            return None
        local = allowed.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
        why = "; ".join(self._reason_text(channel, reason, rules) for channel, reason in reasons)
        return allowed, local, tz, why

    def _contact_wait(self, partner, policy, level, decision, today, now, channels):
        """A 'waiting for contact rules' log entry when the rules do not allow ``channels`` at ``now``."""
        wait = self._rules_wait(partner, policy, channels, now)
        if not wait:
            return None
        allowed, local, tz, why = wait
        return self._log(
            partner, policy, level, "contact_wait", "scheduler", today, decision.listed_move_ids, decision,
            state="waiting", postponed_until=allowed.replace(tzinfo=None),
            note=self.env._(
                "%(channels)s postponed to %(when)s (%(tz)s, customer's time): %(reasons)s",
                channels=", ".join(sorted(channels)), when=local, tz=tz, reasons=why,
            ),
        )

    def _why_contact_wait(self, partner, policy, level, now=None, history=None):
        """The contact rules' wait of ``level``'s timed channels now, as a reason's values (or None).
        ``history``: see _rules_wait."""
        channels = {name for name, flag in (("email", level.send_email), ("sms", level.send_sms)) if flag}
        channels &= TIMED_CHANNELS
        if not channels or not policy:
            return None
        try:
            wait = self._rules_wait(partner, policy, channels, now, history=history)
        except UserError:
            return None
        if not wait:
            return None
        _allowed, local, tz, why = wait
        return {"when": local, "tz": tz, "reasons": why}

    def _contact_rules_say(self, partner, policy, channels, now=None):
        """A sentence for collectors when the scheduler's contact rules would make ``channels`` wait now."""
        try:
            wait = self._rules_wait(partner, policy, channels, now)
        except UserError as error:
            return str(error)
        if not wait:
            return False
        _allowed, local, tz, why = wait
        return self.env._(
            "Contact rules: the scheduler would wait until %(when)s (customer's time, %(tz)s): %(reasons)s.",
            when=local, tz=tz, reasons=why,
        )

    def _reason_text(self, channel, reason, rules):
        texts = {
            "day": self.env._("not a contact day"),
            "hours": self.env._("outside the contact hours (%(start)s-%(end)s)",
                                start=rules.start.strftime("%H:%M"), end=rules.end.strftime("%H:%M")),
            "cap": self.env._("%(channel)s cap of %(cap)s in %(days)s days reached", channel=channel,
                              cap=dict(rules.caps).get(channel, 0), days=rules.window_days),
            "gap": self.env._("less than %s hours since the last reminder", rules.min_gap_hours),
        }
        return texts.get(reason, reason)

    # --- escalation ---------------------------------------------------

    def _escalate(self, partner, policy, level, decision, origin, today):
        """Propose (or, if the policy says so, place) an agency case for the
        listed invoices not already in a case."""
        Case = self.env["collections.case"].sudo()
        moves = self.env["account.move"].sudo().browse(decision.listed_move_ids).filtered(
            lambda m: m.move_type == "out_invoice")
        taken = Case.search([("state", "in", ("proposed", "open")), ("move_ids", "in", moves.ids)]).move_ids
        moves -= taken
        if not moves:
            return self.env["collections.action"]
        case = server(Case).create({
            "partner_id": partner.commercial_partner_id.id,
            "company_id": self.env.company.id,
            "case_type": "agency",
            "move_ids": [(6, 0, moves.ids)],
            "origin": "level",
            "level_id": level.id,
            "agency_id": policy.agency_id.id,
            "commission_rate": policy.agency_id.collections_agency_commission,
            "fixed_fee": policy.agency_id.collections_agency_fixed_fee,
            "user_id": self._collector(partner, policy).id,
        })
        if policy.escalation_mode == "automatic" and policy.agency_id:
            # The policy is the manager's standing approval.
            case.with_context(collections_policy_approval=True)._place()
        else:
            approver = Case._approver_for(policy, self.env.company)
            if approver:
                case.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=approver.id,
                    summary=self.env._("Approve escalation %s", case.name),
                    note=self.env._("%(customer)s reached level '%(level)s'.", customer=partner.display_name,
                                    level=level.name),
                )
        return self.env["collections.action"].sudo().search([
            ("channel", "=", "case"), ("partner_id", "=", partner.commercial_partner_id.id),
            ("move_ids", "in", moves.ids),
        ])

    # --- late fees ----------------------------------------------------

    def _fees_due(self, partner, policy, level, decision, origin, today):
        """Fees for the invoices reaching a level that charges them today.

        Nothing is written. Each invoice pays a level's fee once; statutory
        interest charged at a later level is only what accrued since (the
        interest from the due date to today, less the interest already
        charged); the fixed compensation is charged once per invoice."""
        if origin == "scheduler":
            # An invoice whose instalments reach different levels today pays the highest one's fee.
            reached = {}
            for item in decision.items:
                if item.target_level_id:
                    reached.setdefault(item.move_id, set()).add(item.target_level_id)
            delays = {lvl.id: lvl.delay for lvl in self.env["collections.level"].sudo().browse(
                set().union(*reached.values()) if reached else set())}
            targets = {move_id: max(ids, key=delays.get) for move_id, ids in reached.items()}
        else:
            targets = dict.fromkeys(decision.listed_move_ids, level.id)
        levels = self.env["collections.level"].sudo().browse(set(targets.values()))
        charging = {lvl.id: lvl for lvl in levels if lvl._charges_fees()}
        if not charging:
            return []
        company = self.env.company
        moves = self.env["account.move"].sudo().browse(
            sorted(mid for mid, lid in targets.items() if lid in charging)
        ).filtered(lambda m: m.move_type == "out_invoice" and not m.collections_fee_source and m.invoice_date_due)
        previous = self.env["collections.fee"].sudo().search([("move_id", "in", moves.ids)])
        charged = {(fee.move_id.id, fee.level_id.id) for fee in previous}
        interest_charged = defaultdict(Decimal)
        compensated = set()
        for fee in previous:
            interest_charged[fee.move_id.id] += Decimal(str(fee.interest))
            if fee.compensation:
                compensated.add(fee.move_id.id)
        digits = company.currency_id.decimal_places
        rates = None
        fees = []
        allocations = self._credit_allocations(decision, today)
        Ledger = self.env["collections.ledger"]
        for move in moves:
            lvl = charging[targets[move.id]]
            if (move.id, lvl.id) in charged:
                continue
            # Each instalment on its own (an invoice on an instalment term has several): what is
            # late of it, less the unapplied credits allocated to it (oldest debt first); nothing
            # is charged on what the credits cover, nor on instalments not yet due.
            late_lines = [
                (line, line.date_maturity or line.date) for line in Ledger._open_lines_of(move)
                if line.amount_residual > 0 and (line.date_maturity or line.date) < today
            ]
            owed = {due: Decimal(0) for _line, due in late_lines}
            for line, due in late_lines:
                owed[due] += Decimal(str(line.amount_residual))
            allocated = {due: allocations.get((move.id, due), ()) for due in owed}
            overdue = sum(owed.values(), Decimal(0)) - sum(
                (amount for parts in allocated.values() for _day, amount in parts), Decimal(0))
            if overdue <= 0:
                continue
            interest = Decimal(0)
            if lvl.fee_type == "interest":
                if rates is None:
                    rates = self.env["collections.interest.rate"]._periods(company)
                accrued = Decimal(0)
                for line, due in late_lines:
                    try:
                        # Interest runs on each instalment from its own due date.
                        accrued += statutory_interest(
                            due, today, reduce_balances(Ledger._balance_history(line), allocated[due]), rates,
                            Decimal(str(policy.interest_margin)), digits,
                        )
                    except FeeError as error:
                        raise UserError(self.env._(
                            "No reference interest rate is in force on %(day)s: add it under Collections > "
                            "Configuration > Reference Rates before charging interest on %(invoice)s.",
                            day=error.values.get("day"), invoice=move.name,
                        )) from error
                interest = max(accrued - interest_charged[move.id], Decimal(0))
            compensation = Decimal(0)
            if lvl.fee_compensation and partner.commercial_partner_id.is_company and move.id not in compensated:
                compensation = Decimal(str(lvl.fee_compensation))
            amount = late_fee(
                lvl.fee_type, overdue, digits, fixed=lvl.fee_fixed, percent=lvl.fee_percent,
                interest=interest, cap=lvl.fee_cap, compensation=compensation,
            )
            if amount > 0:
                fees.append({
                    "move": move, "level": lvl, "amount": amount, "interest": min(interest, amount),
                    "compensation": compensation, "days_late": (today - min(owed)).days,
                })
        return fees

    def _credit_allocations(self, decision, today):
        """{(move id, due date): [(date, amount)]}: the customer's unapplied credits allocated to the items the
        decision lists, oldest due date first, each credit from its date (engine.fees.allocate_credits).
        Amounts in company currency, as the decision's residuals."""
        if not decision.total_credits:
            return {}
        listed = set(decision.listed_items) or {(item.move_id, item.days_late) for item in decision.items
                                                if item.move_id in set(decision.listed_move_ids)}
        owed = [((item.move_id, today - timedelta(days=item.days_late)), today - timedelta(days=item.days_late),
                 item.residual)
                for item in decision.items if (item.move_id, item.days_late) in listed and item.residual > 0]
        credits, left = [], decision.total_credits
        for item in sorted((i for i in decision.items if i.residual < 0), key=lambda i: -i.days_late):
            take = min(-item.residual, left)  # excluded credits are not in total_credits: capped by it
            if take > 0:
                credits.append((today - timedelta(days=item.days_late), take))
                left -= take
        return allocate_credits(owed, credits)

    def _charge_fees(self, partner, policy, fees, origin, today):
        """One customer invoice for today's fees, posted, and one log entry."""
        if not policy.fee_product_id:
            raise UserError(self.env._(
                "Policy '%s' charges late fees: choose its Late Fee Product first.", policy.name,
            ))
        company = self.env.company
        journal = policy.fee_journal_id or self.env["account.journal"].search([
            ("company_id", "=", company.id), ("type", "=", "sale"),
        ], limit=1)
        lines = []
        for fee in fees:
            label = self.env._(
                "Late payment charges on %(invoice)s (%(days)s days late, %(level)s)",
                invoice=fee["move"].name, days=fee["days_late"], level=fee["level"].name,
            )
            lines.append((0, 0, {
                "product_id": policy.fee_product_id.id, "name": label, "quantity": 1,
                "price_unit": float(fee["amount"]),
            }))
        invoice = server(self.env["account.move"].sudo().with_company(company)).create({
            "move_type": "out_invoice",
            "partner_id": partner.commercial_partner_id.id,
            "journal_id": journal.id,
            "currency_id": company.currency_id.id,
            "invoice_date": today,
            "invoice_origin": self.env._("Late payment charges"),
            "collections_fee_source": True,
            "invoice_line_ids": lines,
        })
        invoice.action_post()
        server(self.env["collections.fee"].sudo()).create([{
            "move_id": fee["move"].id,
            "level_id": fee["level"].id,
            "partner_id": partner.commercial_partner_id.id,
            "company_id": company.id,
            "date": today,
            "days_late": fee["days_late"],
            "amount": float(fee["amount"]),
            "interest": float(fee["interest"]),
            "compensation": float(fee["compensation"]),
            "fee_move_id": invoice.id,
        } for fee in fees])
        return self._log(
            partner, policy, fees[0]["level"], "fee", origin, today, [fee["move"].id for fee in fees],
            note=self.env._(
                "Late payment charges of %(amount)s invoiced on %(invoice)s",
                amount=company.currency_id.format(float(sum(fee["amount"] for fee in fees))), invoice=invoice.name,
            ),
        )

    def _advance(self, decision, level, today, origin):
        """Record on the reminded items (each invoice, or each instalment) the level they reached."""
        if origin == "scheduler":
            levels = {item.line_id: (item.target_level_id, today) for item in decision.items if item.target_level_id}
        else:
            # A collector sent this level by hand: every listed item reaches it (never goes back
            # to a lower one). An invoice the decision did not list item by item (chosen in the
            # send wizard) by its late items, else all of them.
            keyed = {(item.move_id, item.days_late): item.line_id for item in decision.items}
            chosen = {keyed[key] for key in decision.listed_items if key in keyed}
            covered = {move_id for move_id, _late in decision.listed_items}
            lines = self.env["collections.ledger"]._open_lines_of(
                self.env["account.move"].browse(decision.listed_move_ids)).filtered("amount_residual")
            levels = {}
            for move, group in lines.grouped("move_id").items():
                debts = group.filtered(lambda item: item.amount_residual > 0)
                if move.id in covered:
                    debts = debts.filtered(lambda item: item.id in chosen)
                else:
                    debts = debts.filtered(lambda item: (item.date_maturity or item.date) <= today) or debts
                for line in debts:
                    current = line.collections_level_id
                    keep = current and current.delay >= level.delay
                    levels[line.id] = (current.id if keep else level.id, today)
        self.env["collections.ledger"]._set_levels(levels, reminder_count=1)

    def _log(self, partner, policy, level, channel, origin, today, move_ids=(), decision=None, **values):
        vals = {
            "partner_id": partner.id,
            "company_id": self.env.company.id,
            "policy_id": policy.id if policy else False,
            "level_id": level.id if level else False,
            "channel": channel,
            "origin": origin,
            "action_date": today,
            "move_ids": [(6, 0, list(move_ids))],
        }
        if decision is not None:
            # net of the unapplied credits, as the customer's Total Overdue (what it really owes late)
            vals["amount_overdue"] = float(max(decision.total_overdue - decision.total_credits, 0))
            vals["amount_due"] = float(decision.total_due)
            vals["note"] = self._left_out_note(decision)
            if decision.trace:
                # Why, as the rules saw it at this moment (collections.why): answerable a year later.
                why = self.env["collections.why"]._data(partner, self.env.company, decision)
                if origin == "manual":
                    why.insert(0, {"code": "manual", "level": level.name if level else ""})
                vals["why"] = why
        vals.update(values)
        return self.env["collections.action"]._collections_log(vals)

    def _left_out_note(self, decision):
        """Say in the log which late invoices a reminder left out because they are disputed."""
        listed = set(decision.listed_move_ids)
        late = {item.move_id for item in decision.items if item.days_late > 0 and item.move_id not in listed}
        if not late:
            return False
        disputed = self.env["collections.dispute"]._open_disputes_by_move(late)
        if not disputed:
            return False
        moves = self.env["account.move"].sudo().browse(sorted(disputed))
        return self.env._("Left out, disputed: %s", ", ".join(
            f"{move.name} ({disputed[move.id].name})" for move in moves
        ))

    def _collector(self, partner, policy):
        """Who gets the customer's tasks: its collector (res.partner._collections_collectors,
        the one rule of every screen), else the acting user. ``policy`` is the customer's own."""
        return partner._collections_collector(self.env.company) or self.env.user

    # --- email --------------------------------------------------------

    def _render_email(self, partner, level, move_ids, listed_items=None):
        """(subject, body) of the level's template for this customer, in its language.

        ``listed_items``: the decision's (move id, days late) of each listed item (instalments of
        an invoice one by one); without it, the table lists what is due by the level's window."""
        template = level.mail_template_id.sudo().with_context(
            collections_move_ids=list(move_ids),
            collections_listed_items=tuple(listed_items) if listed_items else None,  # hashable: a cache key
            collections_level_id=level.id,
            collections_fee_lines=self.env.context.get("collections_fee_lines"),
        )
        subject = template._render_field("subject", partner.ids, compute_lang=True)[partner.id]
        body = template._render_field("body_html", partner.ids, compute_lang=True)[partner.id]
        return subject, body

    def _invoice_attachments(self, move_ids):
        """[(file name, PDF bytes)] of the invoices: each invoice's own PDF as Odoo keeps it. The invoices without
        one yet (made by import or API) get theirs as Odoo's invoice sending makes it, all of them in one
        report call, and keep it: an invoice is rendered once in its life, not again at the next level."""
        moves = self.env["account.move"].sudo().browse(move_ids).filtered(lambda m: m.is_invoice())
        missing = moves.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            # sudo: the invoices' documents, made as Odoo's Send & Print makes them (account.move.send).
            Send = self.env["account.move.send"].sudo()
            for company in missing.company_id:
                documents = {move: {"pdf_report": Send._get_default_pdf_report_id(move)}
                             for move in missing.filtered(lambda m, c=company: m.company_id == c)}
                Send.with_company(company)._prepare_invoice_pdf_report(documents)
                Send._link_invoice_documents(documents)
        return [(move.invoice_pdf_report_id.name, move.invoice_pdf_report_id.raw) for move in moves
                if move.invoice_pdf_report_id]

    def _send_email(self, partner, policy, level, decision, origin, today, email=None):
        move_ids = decision.listed_move_ids
        fail = self._failure_logger(partner, policy, level, "email", origin, today, decision)
        if not level.mail_template_id:
            return fail(self.env._("Level '%s' has no email template.", level.name))
        recipients = partner._collections_recipients()
        if not recipients:
            return fail(self._no_recipient_reason(partner))
        if email:
            subject, body = email["subject"], email["body"]
        else:
            subject, body = self._render_email(partner, level, move_ids, decision.listed_items)
        attachments = self._invoice_attachments(move_ids) if level.attach_invoices else []
        if level.attach_statement:
            attachments.append(partner._collections_statement_pdf())
        author = self._collector(partner, policy).partner_id
        message = partner.with_context(mail_notify_force_send=False, mail_post_autofollow=False).message_post(
            body=body,
            subject=subject,
            partner_ids=recipients.ids,
            author_id=author.id,
            email_from=author.email_formatted or self.env.company.email_formatted,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachments=attachments,
            email_layout_xmlid="mail.mail_notification_light",
            # The layout's header reads "Your <model description>": "Your account", not "Your Contact".
            model_description=self.env._("account"),
        )
        return self._log(
            partner, policy, level, "email", origin, today, move_ids, decision,
            message_id=message.id,
            recipients=", ".join(recipients.mapped("email_formatted")),
        )

    def _no_recipient_reason(self, partner):
        commercial = partner.commercial_partner_id
        if not commercial.active:
            return self.env._(
                "The customer is archived: Odoo sends nothing to archived contacts. Restore it (its debt "
                "is still followed up) or exclude it from follow-up."
            )
        if not commercial.email and not commercial.child_ids.filtered(
                lambda c: c.email and (c.type == "invoice" or c.collections_followup_role == "to")):
            return self.env._("The customer has no email address.")
        return self.env._(
            "The customer's email address bounced or opted out of emails: check it with the customer."
        )

    def _failure_logger(self, partner, policy, level, channel, origin, today, decision):
        def fail(reason):
            return self._log(
                partner, policy, level, channel, origin, today, decision.listed_move_ids, decision,
                state="failed", failure_reason=reason,
            )
        return fail

    # --- SMS ------------------------------------------------------------

    def _sms_number(self, partner):
        """(E.164 number, error code) of the customer's phone, read with its country (else the company's)."""
        commercial = partner.commercial_partner_id
        contact = commercial.child_ids.filtered(lambda c: c.type == "invoice" and c.phone and c.active)[:1]
        number = commercial.phone or contact.phone
        country = commercial.country_id or self.env.company.country_id
        return normalize_phone(number, country.code)

    def _send_sms(self, partner, policy, level, decision, origin, today):
        fail = self._failure_logger(partner, policy, level, "sms", origin, today, decision)
        if not level.sms_template_id:
            return fail(self.env._("Level '%s' has no SMS template.", level.name))
        commercial = partner.commercial_partner_id
        if not commercial.active:
            return fail(self._no_recipient_reason(commercial))
        number, error = self._sms_number(commercial)
        if error == "empty":
            return fail(self.env._("The customer has no phone number for text messages."))
        if error:
            return fail(self.env._(
                "The customer's phone number %(number)s is not a valid number for %(country)s.",
                number=commercial.phone, country=(commercial.country_id or self.env.company.country_id).name or "-",
            ))
        body = level.sms_template_id.sudo()._render_field("body", commercial.ids, compute_lang=True)[commercial.id]
        message = commercial._message_sms(
            body, partner_ids=commercial.ids, sms_pid_to_number={commercial.id: number}, put_in_queue=True,
        )
        return self._log(
            partner, policy, level, "sms", origin, today, decision.listed_move_ids, decision,
            message_id=message.id, recipients=number,
        )

    # --- letter ---------------------------------------------------------

    @api.model
    def _no_postal_address(self, partner):
        """True when the customer's address cannot take a letter (street, and city or postcode)."""
        commercial = partner.commercial_partner_id
        return not (commercial.street or commercial.street2) or not (commercial.city or commercial.zip)

    def _letter_note(self, level):
        """The customer's chatter note beside a letter the run made."""
        return self.env._("Follow-up letter (%s) ready to print and post.", level.name)

    def _make_letter(self, partner, policy, level, decision, origin, today):
        if self._no_postal_address(partner):
            # A letter without an address cannot be posted: a logged failure, not a blank envelope.
            return self._log(
                partner, policy, level, "letter", origin, today, decision.listed_move_ids, decision,
                state="failed", failure_reason=self.env._(
                    "The customer has no postal address (street, and city or postcode): the letter was not "
                    "printed. Complete the address and send the letter again."
                ),
            )
        report = self.env.ref("collections_followup.action_report_followup_letter").sudo()
        content, _kind = report._render_qweb_pdf(report.report_name, partner.ids, data={
            "level_id": level.id, "move_ids": list(decision.listed_move_ids),
            "listed_items": list(decision.listed_items), "fees": self.env.context.get("collections_fee_lines"),
        })
        name = self.env._(
            "Follow-up letter %(customer)s %(date)s.pdf", customer=partner.display_name, date=today,
        )
        attachment = self.env["ir.attachment"].sudo().create({
            "name": name,
            "raw": content,
            "res_model": "res.partner",
            "res_id": partner.id,
            "mimetype": "application/pdf",
        })
        message = partner.message_post(
            body=self._letter_note(level),
            attachment_ids=attachment.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return self._log(
            partner, policy, level, "letter", origin, today, decision.listed_move_ids, decision,
            attachment_id=attachment.id, message_id=message.id,
        )

    # --- tasks ----------------------------------------------------------

    def _create_call(self, partner, policy, level, decision, origin, today, now=None):
        """The collector's call task, due on the first day the contact rules allow a call, with its script."""
        user = self._collector(partner, policy)
        existing = partner.activity_ids.filtered(
            lambda a: a.activity_type_id == level.activity_type_id and a.user_id == user
        )[:1]
        if existing:
            # A level sent again (after an undelivered email) keeps its open call task.
            return self._log(
                partner, policy, level, "call", origin, today, decision.listed_move_ids, decision,
                activity_id=existing.id, note=self.env._("Call task already open: %s", existing.summary or level.name),
            )
        when, reasons = self._next_call(partner, policy, now)
        tz = self._customer_tz(partner)
        local = when.astimezone(ZoneInfo(tz))
        script = self.env["ir.qweb"]._render("collections_followup.call_script", {
            "partner": partner.commercial_partner_id,
            "lines": [line for line in self.env["collections.ledger"]._reminder_rows(
                partner, self.env.company, move_ids=set(decision.listed_move_ids)) if not line.get("credit")],
            "overdue": float(decision.total_overdue),
            "due": float(decision.total_due),
            "currency": self.env.company.currency_id,
            "days_late": decision.oldest_days_late,
            "phone": self._sms_number(partner)[0] or partner.commercial_partner_id.phone,
            "tz": tz,
            "local": local,
            "wait": reasons,
            "level": level,
        })
        activity = partner.activity_schedule(
            activity_type_id=level.activity_type_id.id,
            summary=level.activity_summary or level.name,
            note=script,
            user_id=user.id,
            date_deadline=max(local.date(), today),
        )
        return self._log(
            partner, policy, level, "call", origin, today, decision.listed_move_ids, decision,
            activity_id=activity.id, note=level.activity_summary or level.name,
        )

    def _next_call(self, partner, policy, now=None):
        """(aware instant, reasons) of the first moment the contact rules allow calling the customer."""
        moment = (now or fields.Datetime.now()).replace(tzinfo=timezone.utc)
        rules = policy._contact_policy() if policy else None
        if not rules:
            return moment, ()
        since = (moment - timedelta(days=rules.window_days)).replace(tzinfo=None)
        calls = [instant for channel, instant in self._contact_history(partner, since) if channel == "call"]
        try:
            return next_contact(moment, self._customer_tz(partner), rules.rules("call"), calls)
        except RuleError:
            return moment, ()

    def _open_activity(self, partner, xmlid):
        activity_type = self.env.ref(xmlid)
        return partner.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)[:1], activity_type

    def _request_review(self, partner, policy, level, decision, today):
        existing, activity_type = self._open_activity(partner, "collections_followup.mail_activity_type_review")
        if existing:
            return self.env["collections.action"]
        activity = partner.activity_schedule(
            activity_type_id=activity_type.id,
            summary=self.env._("Review and send the '%s' follow-up", level.name),
            user_id=self._collector(partner, policy).id,
            date_deadline=today,
        )
        return self._log(
            partner, policy, level, "review", "scheduler", today, decision.listed_move_ids, decision,
            activity_id=activity.id,
            note=self.env._("Level '%s' needs a manual review before it is sent.", level.name),
        )

    def _ask_contact_fix(self, partner, policy, failed_action, today, kind="email"):
        existing, activity_type = self._open_activity(partner, "collections_followup.mail_activity_type_contact_fix")
        if existing:
            return
        summaries = {
            "email": self.env._("Fix the customer's email address"),
            "sms": self.env._("Fix the customer's phone number"),
            "phone": self.env._("Find the customer's right phone number"),
            "address": self.env._("Complete the customer's postal address"),
            "opted_out": self.env._("The customer opted out of every reminder channel: decide how to reach it"),
        }
        partner.activity_schedule(
            activity_type_id=activity_type.id,
            summary=summaries[kind],
            note=failed_action.failure_reason or False,
            user_id=self._collector(partner, policy).id,
            date_deadline=today,
        )
