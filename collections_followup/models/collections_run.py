import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from .collections_action import SCHEDULER_CHANNELS

_logger = logging.getLogger(__name__)

# Advisory lock namespace of the follow-up run: a customer being handled by
# one worker is skipped by the others (pg_try_advisory_xact_lock).
LOCK_NAMESPACE = 712_1001
# The code of the daily run's extra workers' scheduled actions (the first one's is model._cron_run_followups()).
WORKER_CODE = "model._cron_run_followups(start=%s)"
MAX_WORKERS = 8
# The unique index behind "one scheduler entry per customer, day and channel".
ONCE_A_DAY_INDEX = "collections_action_scheduler_once_a_day"


class CollectionsRun(models.AbstractModel):
    """The daily run: scheduled actions, decision chunks, batches, locks and progress. It decides and hands
    each customer due to the sending service (collections.send), which the wizards use too.

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
        for company in self.env["collections.policy"]._followed_companies():
            self.with_company(company)._run_company(company, today, start=start)

    @api.model
    def _cron_run_waiting(self):
        """Hourly: send the follow-ups whose contact-rule wait is over."""
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        for company in self.env["collections.policy"]._followed_companies():
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
        Level = self.env["collections.level"]
        in_cron = bool(self.env.context.get("cron_id"))
        if in_cron and not self.env["ir.cron"]._commit_progress():
            # Odoo calls a scheduled action again and again in its slice of time, ten calls at least, so also
            # once the slice is over: deciding customers for one batch then costs more than sending it. What is
            # left goes to the next slice, at once (_continue_soon).
            self.env["ir.cron"]._commit_progress(remaining=1)
            self._continue_soon()
            return 0
        # A scheduled daily run goes in slices of Odoo's cron and resumes where its last slice stopped.
        position = self._position(company, today, start) if in_cron and partner_ids is None else None
        sent = due_count = 0
        # Customers per committed batch (a system parameter lets big books tune it).
        size = int(self.env["ir.config_parameter"].sudo().get_param(
            "collections_followup.run_batch_size", self._batch_size) or self._batch_size)
        stopped = False
        # Decided a chunk of customers at a time, and sent before the next chunk is decided:
        # the run's memory does not grow with the book.
        for decisions in self._decision_chunks(company, today, now, partner_ids, start=start, position=position):
            due = [pid for pid, (_policy, decision) in decisions.items() if decision.status == "action"]
            due_count += len(due)
            if in_cron:
                self.env["ir.cron"]._commit_progress(remaining=len(due))
            for batch in split_every(max(size, 1), due):
                mine = self._lock_partners(batch)
                mine -= self._handled_by_others(company, today, mine)
                jobs = [(partner, decisions[partner.id][0], Level.browse(decisions[partner.id][1].level_id),
                         decisions[partner.id][1]) for partner in Partner.browse(sorted(mine))]
                # The batch's reads and renderings at once; then each customer on its own savepoint.
                prepared = self._prepare_safely(jobs, today, now)
                self._post_safely(jobs, prepared)
                self._execute_batch(jobs, prepared, today, now)
                sent += len(jobs)
                # The levels the batch's reminders reached, in one statement, committed with their log entries.
                self.env["collections.send"]._advance_batch(prepared.values())
                if position:
                    position._reached(batch)  # committed with the batch
                if in_cron and not self.env["ir.cron"]._commit_progress(len(batch)):
                    stopped = True
                    break
            if stopped:
                break
            if position:
                position._reached(list(decisions))  # the chunk's customers not due too
            # What this chunk loaded is not needed by the next one.
            self.env.invalidate_all(flush=True)
        if stopped:
            self._continue_soon()
        else:
            if position:
                position.unlink()  # the pass is over: a later run today goes round again
            if partner_ids is None and not start:
                # The daily run reviews every hold (its first worker: once, at the end of its pass); the
                # hourly run of the waits only sends.
                self.env["res.partner"]._collections_refresh_holds(company, today)
                # ... asks an accountant to match the payments seen but not booked (once each), and to apply the
                # credits of the customers they cover (who are not reminded).
                self.env["collections.ledger"]._ask_to_match_payments_seen(company)
                self.env["res.partner"]._collections_ask_to_apply_credits(company, today)
        _logger.info("Follow-up run for %s: %d customers due, %d handled%s", company.name, due_count, sent,
                     " (to be continued)" if stopped else "")
        return sent

    def _continue_soon(self):
        """The scheduled action's slice of time is over with work left (ir.cron._commit_progress): Odoo then
        reschedules it for the next time a cron thread wakes up, up to a minute later, during which the run sent
        nothing. Its trigger wakes the cron threads as soon as this slice is committed."""
        self.env["ir.cron"].browse(self.env.context["cron_id"])._trigger()

    def _position(self, company, today, start):
        """The worker's position in today's pass (collections.run.position), a new pass when it has none."""
        # sudo: the run's own bookkeeping (the scheduled action runs as the superuser; Run Follow-ups Now
        # triggers it)
        Position = self.env["collections.run.position"].sudo()
        position = Position.search([("company_id", "=", company.id), ("start", "=", start)])
        if position.day == today:
            return position
        values = {"day": today, "pivot_partner_id": 0, "last_partner_id": 0}
        if position:
            position.write(values)  # yesterday's pass, never finished
            return position
        return Position.create({**values, "company_id": company.id, "start": start})

    def _decision_chunks(self, company, today, now=None, partner_ids=None, start=0.0, position=None):
        """The decision phase of the run, a chunk of customers at a time: yields
        {partner id: (policy, PartnerDecision)} for the customers with open receivables,
        less those handled today and those waiting for the contact rules. Per chunk: one
        query for the open items, one for the delays of the levels they reached (when any)
        and one for the customers' settings; the candidates, the pauses, today's entries and
        the waits are read once for the whole run. ``start``: the
        fraction of the (sorted) customers to begin at, going round to those before it. ``position``: the
        worker's collections.run.position, whose pass goes on after the customers it has reached."""
        Partner = self.env["res.partner"].with_company(company)
        candidates = self._open_partner_ids(company, partner_ids)
        candidates -= self._handled_today(company, today) | self._waiting(company, now or fields.Datetime.now())
        pauses = self.env["collections.ledger"]._pauses(company)
        ordered = sorted(candidates)
        first = int(len(ordered) * start)
        if position is not None:
            if not position.pivot_partner_id and ordered:
                position.pivot_partner_id = ordered[first]
            ordered = position._remaining(ordered)
        else:
            ordered = ordered[first:] + ordered[:first]
        for chunk in split_every(self._decision_chunk_size, ordered):
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

    # ------------------------------------------------------------------
    # The run's workers: scheduled actions going round the same customers from evenly spread starts
    # ------------------------------------------------------------------

    @api.model
    def _worker_crons(self):
        """(the first worker's scheduled action, the others' in order), active or not."""
        # sudo: the scheduled actions are configuration; which of them are the run's workers is read to start
        # them (a manager's Run Now) or count them (the settings).
        first = self.env.ref("collections_followup.ir_cron_collections_run").sudo()
        others = self.env["ir.cron"].sudo().with_context(active_test=False).search([
            ("model_id", "=", first.model_id.id), ("code", "=like", WORKER_CODE.partition("%")[0] + "%"),
        ], order="id")
        return first, others

    @api.model
    def _workers(self):
        """How many workers the daily run has (its active scheduled actions)."""
        first, others = self._worker_crons()
        return len((first | others).filtered("active"))

    @api.model
    def _set_workers(self, count):
        """Give the daily run ``count`` workers: the first scheduled action and ``count - 1`` more, starting
        evenly round the customers (1/count, 2/count, ...), at the first one's hour. Each customer is still
        handled once (each worker skips those another one holds or handled); Odoo runs as many at once as its
        cron threads (``max_cron_threads``, 2 by default, per server: more servers, more workers at once)."""
        if not isinstance(count, int) or not 1 <= count <= MAX_WORKERS:
            raise UserError(self.env._("The follow-up run has from 1 to %(max)s workers, not %(count)s.",
                                       max=MAX_WORKERS, count=count))
        first, others = self._worker_crons()
        for number in range(1, count):
            values = {
                "name": self.env._("Collections: send today's follow-ups (worker %(number)s of %(count)s)",
                                   number=number + 1, count=count),
                "code": WORKER_CODE % round(number / count, 4),
                "active": first.active,
            }
            if number <= len(others):
                others[number - 1].write(values)
            else:
                first.copy({**values, "nextcall": first.nextcall})
        second = self.env.ref("collections_followup.ir_cron_collections_run_second_worker", raise_if_not_found=False)
        for cron in others[max(count - 1, 0):]:
            if cron == second:  # the addon's own record: kept, switched off
                cron.active = False
            else:
                cron.unlink()

    @api.model
    def _action_run_now(self):
        """Start the daily run in the background now (managers' menu): its workers, each the next time a cron
        thread is free (Odoo skips an inactive one)."""
        lead, others = self._worker_crons()
        for cron in lead | others.filtered("active"):
            cron._trigger()
        outside, total, first = self._outside_contact_hours()
        if not outside:
            message = self.env._("Today's follow-ups are being sent in the background; see the Collections Log.")
        elif outside == total:
            message = self.env._(
                "No reminder goes out now: every customer with open invoices (%(total)s) is outside its contact "
                "hours or days. The run records their reminders as waiting (Collections Log, state Waiting) and "
                "the hourly job sends each when its contact hours start, the first at %(when)s (%(tz)s).",
                total=total, when=first[1], tz=first[2])
        else:
            message = self.env._(
                "Reminders to customers within their contact hours are being sent in the background. %(outside)s of "
                "the %(total)s customers with open invoices are outside their contact hours or days now: their "
                "reminders wait (Collections Log, state Waiting) and the hourly job sends each when its hours "
                "start, the first at %(when)s (%(tz)s).",
                outside=outside, total=total, when=first[1], tz=first[2])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Follow-up run started"),
                "message": message,
                "type": "warning" if outside == total and total else "success",
                "sticky": bool(outside),
            },
        }

    @api.model
    def _outside_contact_hours(self, now=None):
        """(customers with open receivables whose contact hours or days exclude ``now``, all of them, (instant,
        local time, tz) of the first one allowed) in the followed companies: what Run Now tells the manager. Per
        policy and time zone, one look at the rules (hours and days; a customer's caps and gaps are its own)."""
        now = now or fields.Datetime.now()
        Rules = self.env["collections.contact.rules"]
        outside = total = 0
        first = None
        for company in self.env["collections.policy"]._followed_companies():
            # sudo: counts of the companies' customers, for the manager's message (no amounts, no names).
            partners = self.env["res.partner"].sudo().with_company(company).browse(self._open_partner_ids(company))
            default = self.env["collections.policy"].sudo()._get_default_policy(company)
            groups = defaultdict(list)
            for partner in partners:
                groups[(partner.collections_policy_id or default, Rules._customer_tz(partner))].append(partner)
            total += len(partners)
            for (policy, _tz), members in groups.items():
                wait = Rules.with_company(company)._rules_wait(members[0], policy, {"email"}, now, history=[])
                if wait:
                    outside += len(members)
                    first = min(first, wait) if first else wait
        return outside, total, first

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

    def _prepare_safely(self, jobs, today, now):
        """The batch's Sendings (collections.send._prepare_batch); none when preparing them failed: each
        customer is then prepared on its own, where a failure is logged."""
        try:
            with self.env.cr.savepoint():
                return self.env["collections.send"]._prepare_batch(jobs, "scheduler", today, now=now)
        except Exception:
            _logger.exception("Follow-up batch of %d customers prepared customer by customer", len(jobs))
            return {}

    def _post_safely(self, jobs, prepared):
        """Post the batch's prepared emails at once (collections.send._post_batch); when that fails, nothing of
        it is kept and each customer's email is posted by its own execution, where a failure is logged."""
        try:
            with self.env.cr.savepoint():
                self.env["collections.send"]._post_batch(jobs, prepared)
        except Exception:
            _logger.exception("Follow-up emails of a batch of %d customers posted customer by customer", len(jobs))
            for sending in prepared.values():
                sending.posted = None

    def _execute_batch(self, jobs, prepared, today, now):
        """Execute a batch's prepared customers together on one savepoint (not one each), their emails' log entries
        written in one create at the end (collections.send._log_batch); when one of them fails, that savepoint is
        rolled back (their emails, posted before it, stay) and each is executed again on a savepoint of its own,
        where a failure is logged and undoes that customer only. A customer whose preparation failed is executed
        on its own savepoint."""
        Send = self.env["collections.send"]
        together = [job for job in jobs if job[0].id in prepared]
        try:
            unsent = []
            with self.env.cr.savepoint():
                for partner, policy, level, decision in together:
                    sending = prepared[partner.id]
                    sending.entries = []
                    actions = Send._execute(partner, policy, level, decision, "scheduler", today, now=now,
                                            sending=sending)
                    if sending.posted and sending.posted not in actions.message_id:
                        unsent.append(sending.posted)
                # Another worker's entry of today for one of them (the once-a-day index) fails it here.
                Send._log_batch(prepared.values())
            for message in unsent:
                Send._withdraw(message)  # prepared, then not sent (never expected): it does not leave
            alone = [job for job in jobs if job[0].id not in prepared]
        except Exception:
            _logger.info("Follow-up batch of %d customers executed customer by customer", len(together), exc_info=True)
            for sending in prepared.values():
                sending.entries = None  # each writes its own now, on its own savepoint
                if sending.levels:
                    sending.levels.clear()  # the levels they reached went with the savepoint
            alone = jobs
        for partner, policy, _level, decision in alone:
            self._execute_safely(partner, policy, decision, "scheduler", today, now=now,
                                 sending=prepared.get(partner.id))

    def _execute_safely(self, partner, policy, decision, origin, today, now=None, sending=None):
        """Execute one customer's follow-up; a failure is logged, never fatal to the run.
        ``sending``: what the batch prepared for it (collections.send._prepare_batch)."""
        level = self.env["collections.level"].browse(decision.level_id)
        posted = sending.posted if sending else None
        Send = self.env["collections.send"]
        try:
            with self.env.cr.savepoint():
                try:
                    actions = Send._execute(partner, policy, level, decision, origin, today, now=now, sending=sending)
                except Exception:
                    if sending and sending.levels:
                        sending.levels.clear()  # the levels it reached go with the savepoint
                    raise
            if posted and posted not in actions.message_id:
                Send._withdraw(posted)  # prepared, then not sent (never expected): it does not leave
            return actions
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != ONCE_A_DAY_INDEX:
                raise
            # Last line of defence: another worker handled the customer in the meantime;
            # everything of ours for it was rolled back with the savepoint, and its email is taken back.
            _logger.warning("Follow-up of partner %s already done today by another worker", partner.id)
            if posted:
                Send._withdraw(posted)
            return self.env["collections.action"]
        except Exception as error:
            if posted:
                Send._withdraw(posted)
            if isinstance(error, UserError):
                # A configuration the users can fix; the log entry says what to do.
                _logger.warning("Follow-up of partner %s not sent: %s", partner.id, error)
            else:
                _logger.exception("Follow-up of partner %s failed", partner.id)
            return self.env["collections.send"]._log(
                partner, policy, level, "email", origin, today,
                move_ids=decision.listed_move_ids, decision=decision,
                state="failed", failure_reason=str(error),
            )
