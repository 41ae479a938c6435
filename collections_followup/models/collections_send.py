import logging
from dataclasses import dataclass, field

from odoo import fields, models
from odoo.tools import groupby

from .collections_contact_rules import TIMED_CHANNELS
from .res_partner_mail import Reminder

_logger = logging.getLogger(__name__)

# Channels that reach the customer: the level counts as sent once one of them went out.
REMINDER_CHANNELS = {"email", "sms", "letter"}


@dataclass
class Sending:
    """What one customer's follow-up at a level is to do, worked out before anything is written
    (collections.send._prepare): the channels to use, those the customer opted out of, the contact rules'
    wait, the late fees the reminder announces, the email (rendered for a batch, or a collector's)."""

    channels: set
    blocked: dict = field(default_factory=dict)
    review: bool = False
    wait: tuple | None = None
    fees: list = field(default_factory=list)
    email: dict | None = None
    collector: object = None  # res.users: who the email comes from (collections.send._collector, read for the batch)
    # What message_post would look up for the email one customer at a time (its alias domain, company and
    # Reply-To), worked out for the whole batch (collections.send._post_values).
    post: dict = field(default_factory=dict)
    # The levels the reminded items reach ({line id: (level id, date)}), kept for the batch to write them all at
    # once after its customers (collections.run), None: written at once (a customer executed alone).
    levels: dict | None = None
    # The email the batch posted for the customer before executing it (collections.send._post_batch), logged by
    # its execution, withdrawn when its execution is rolled back (collections.run._execute_safely).
    posted: object = None
    # The log entry of the email, kept for the batch to write its customers' entries in one create after executing
    # them (collections.send._log_batch), when it is the customer's only entry (_execute); None: written at once.
    entries: list | None = None

    def fee_lines(self):
        """The fees as the reminder and the letter announce them: ((invoice, amount, days late, currency id), ...)."""
        return tuple((fee["move"].name, float(fee["amount"]), fee["days_late"], fee["currency"].id)
                     for fee in self.fees)


class CollectionsSend(models.AbstractModel):
    """The sending service: customers' follow-ups at a level, every channel (email, SMS, letter, call
    task, review request), the log entries and the levels reached. The daily run (collections.run) hands
    it a batch of customers at a time (_prepare_batch, then _execute for each); the send and call wizards
    one customer.

    A batch is worked out before anything is written, with a constant number of queries whatever its
    size: the contact histories and the phone blacklist, the late fees, the emails (each template
    rendered once for all the batch's customers, their invoice tables read together) and the invoice PDFs
    not made yet (one report call). The emails are then posted together (_post_batch: messages, queued
    emails and notifications each in one create). Then each customer is executed (the run executes the
    batch on one savepoint, and each customer on its own savepoint when one of them fails): what it writes
    and sends is the same as when it is executed alone; a customer whose execution is rolled back has its
    email withdrawn.

    Its emails are in collections_send_email.py (posted together in collections_send_post.py), its other
    channels in collections_send_channels.py.

    Why its sudo() calls are safe: every method here is private (not callable over RPC) and its callers
    already decided who may act (the scheduled actions, the collectors-only wizards, the managers' "Run
    Follow-ups Now"). Each sudo() reads or writes only the customer, invoices, log entries and documents of
    the follow-up being executed."""

    _name = "collections.send"
    _description = "Follow-up Sending"

    def _prepare(self, partner, policy, level, decision, origin, today, channels=None, now=None, shared=None):
        """The Sending of ``level`` for ``partner`` (nothing written). ``shared``: the contact rules'
        reads of the batch (collections.contact.rules._batch_reads), when the caller made them."""
        partner = partner.sudo()
        level = level.sudo()
        if channels is None:
            channels = set(level._channels())
        if origin == "scheduler" and level.manual_review:
            return Sending(channels=set(), review=True)
        Rules = self.env["collections.contact.rules"]
        # The customer's own choice first: an opted-out channel is never used (and logged as such).
        blocked = Rules._blocked_channels(partner, channels, phone_blacklist=shared and shared["blacklist"])
        sending = Sending(channels=set(channels) - set(blocked), blocked=blocked)
        timed = sending.channels & TIMED_CHANNELS
        if origin == "scheduler" and timed:
            history = None
            if shared and shared["histories"] is not None:
                history = shared["histories"].get(partner.commercial_partner_id.id, [])
            sending.wait = Rules._rules_wait(partner, policy, timed, now, history=history)
            if sending.wait:
                return sending
        # Late fees are worked out first so that the reminder announces them,
        # and charged only once the reminder has gone out.
        if sending.channels & {"email", "letter"}:
            sending.fees = self.env["collections.fee"]._fees_due(partner, policy, level, decision, origin, today)
        return sending

    def _prepare_batch(self, jobs, origin, today, now=None):
        """{partner id: Sending} of a batch of the run's customers, ``jobs`` [(partner, policy, level, decision)],
        their emails rendered: a constant number of queries for the batch. A customer whose preparation
        fails is left out: _execute prepares it again on its own, where the failure is logged."""
        if not jobs:
            return {}
        partners = self.env["res.partner"].sudo().browse([partner.id for partner, *_rest in jobs])
        policies = self.env["collections.policy"].union(*(policy for _partner, policy, *_rest in jobs if policy))
        shared = self.env["collections.contact.rules"]._batch_reads(
            partners.commercial_partner_id, policies, now or fields.Datetime.now())
        collectors = partners._collections_collectors(self.env.company)
        Users = self.env["res.users"].sudo()
        prepared = {}
        for partner, policy, level, decision in jobs:
            try:  # reads only: a failure (a fee without a rate in force) leaves the batch as it was
                prepared[partner.id] = self._prepare(
                    partner, policy, level, decision, origin, today, now=now, shared=shared)
                prepared[partner.id].levels = {}
                found = collectors.get(partner.commercial_partner_id.id)
                prepared[partner.id].collector = (Users.browse(found.user_id if found and found.user_id else [])
                                                  or self.env.user)
            except Exception:
                _logger.debug("Follow-up of partner %s prepared on its own", partner.id, exc_info=True)
        emails = [(partner, level, decision, prepared[partner.id]) for partner, _policy, level, decision in jobs
                  if partner.id in prepared and self._will_email(partner, level, prepared[partner.id])]
        for template, group in groupby(emails, key=lambda job: job[1].mail_template_id):
            reminders = {partner: Reminder(level.id, tuple(decision.listed_move_ids),
                                           tuple(decision.listed_items) or None, sending.fee_lines())
                         for partner, level, decision, sending in group}
            try:
                rendered = self._render_emails(template, reminders)
            except Exception:
                _logger.debug("Template %s rendered customer by customer", template.id, exc_info=True)
                continue
            for partner in reminders:
                subject, body = rendered[partner.id]
                prepared[partner.id].email = {"subject": subject, "body": body}
        self._post_values({partner: sending for partner, _level, _decision, sending in emails if sending.email})
        attach = [decision.listed_move_ids for partner, level, decision, sending in emails
                  if level.attach_invoices and sending.email]
        self._invoice_documents(set().union(*attach))
        return prepared

    def _will_email(self, partner, level, sending):
        return (not sending.review and not sending.wait and "email" in sending.channels
                and level.mail_template_id and partner._collections_recipients())

    def _execute(self, partner, policy, level, decision, origin, today, email=None, channels=None, now=None,
                 sending=None):
        """Execute ``level`` for ``partner``: the only place that contacts customers.

        ``email``: optional {'subject', 'body'} edited by a collector.
        ``channels``: subset of {'email', 'sms', 'letter', 'call'} to execute (default: the level's).
        ``now``: the moment of the scheduler's contact rules (collectors sending by hand decide themselves).
        ``sending``: what _prepare_batch worked out for this customer (default: worked out now).
        Returns the collections.action records created."""
        partner = partner.sudo()  # scheduler and collectors act on behalf of the company
        level = level.sudo()
        if sending is None:
            sending = self._prepare(partner, policy, level, decision, origin, today, channels=channels, now=now)
        if sending.review:
            return self._request_review(partner, policy, level, decision, today)
        actions = self.env["collections.action"]
        blocked = sending.blocked
        for channel, reason in blocked.items():
            actions |= self._log(
                partner, policy, level, channel, origin, today, decision.listed_move_ids, decision,
                state="blocked", failure_reason=reason,
            )
        channels = sending.channels
        if sending.wait:
            return actions | self._contact_wait(partner, policy, level, decision, today, sending)
        if blocked and not channels & REMINDER_CHANNELS and set(blocked) & REMINDER_CHANNELS:
            # Nothing can reach the customer: the collector decides what to do.
            self._ask_contact_fix(partner, policy, actions[:1], today, kind="opted_out")
            return actions
        reached = False
        fees = sending.fees
        if "email" in channels:
            # Written with the batch's entries only when nothing else is logged after it: the log keeps its order.
            alone = channels == {"email"} and not fees and not level.escalate and not level.credit_hold
            action = self._send_email(partner, policy, level, decision, origin, today, email or sending.email,
                                      sending.fee_lines(), author=sending.collector,
                                      post={} if email else sending.post, posted=None if email else sending.posted,
                                      entries=sending.entries if alone else None)
            actions |= action
            reached |= action.state == "done"
        if "sms" in channels:
            action = self._send_sms(partner, policy, level, decision, origin, today)
            actions |= action
            reached |= action.state == "done"
        if "letter" in channels:
            action = self._make_letter(partner, policy, level, decision, origin, today, sending.fee_lines())
            actions |= action
            reached |= action.state == "done"
        if fees and reached:
            actions |= self.env["collections.fee"]._charge_fees(partner, policy, fees, origin, today)
        if "call" in channels:
            actions |= self._create_call(partner, policy, level, decision, origin, today, now=now)
        if level.escalate:
            actions |= self.env["collections.case"]._escalate(partner, policy, level, decision, origin, today)
        if level.credit_hold and not partner.with_company(self.env.company).collections_credit_hold:
            partner._collections_set_hold(
                self.env._("follow-up level '%s' reached", level.name), "level", self.env.company, level,
            )
        if not channels & REMINDER_CHANNELS and not set(blocked) & REMINDER_CHANNELS:
            reached = True
        if reached:
            self._advance(decision, level, today, origin, sending)
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

    # --- contact rules -----------------------------------------------------

    def _contact_wait(self, partner, policy, level, decision, today, sending):
        """The 'waiting for contact rules' log entry of a Sending that waits."""
        allowed, local, tz, why = sending.wait
        return self._log(
            partner, policy, level, "contact_wait", "scheduler", today, decision.listed_move_ids, decision,
            state="waiting", postponed_until=allowed.replace(tzinfo=None),
            note=self.env._(
                "%(channels)s postponed to %(when)s (%(tz)s, customer's time): %(reasons)s",
                channels=", ".join(sorted(sending.channels & TIMED_CHANNELS)), when=local, tz=tz, reasons=why,
            ),
        )

    # --- levels reached, log entries, who follows up -----------------------

    def _advance(self, decision, level, today, origin, sending=None):
        """Record on the reminded items (each invoice, or each instalment) the level they reached; in
        ``sending``'s levels when its batch writes them (_advance_batch)."""
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
        if sending is not None and sending.levels is not None:
            sending.levels.update(levels)
            return
        self.env["collections.ledger"]._set_levels(levels, reminder_count=1)

    def _advance_batch(self, sendings):
        """Write the levels reached by a batch's customers (those their execution kept), in one statement."""
        levels = {}
        for sending in sendings:
            levels.update(sending.levels or {})
        self.env["collections.ledger"]._set_levels(levels, reminder_count=1)

    def _log(self, partner, policy, level, channel, origin, today, move_ids=(), decision=None, entries=None,
             **values):
        """The log entry of what was done for ``partner``; with ``entries`` (a list), its values are added to it for
        the batch to write (_log_batch) and the entry returned is not saved yet."""
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
            vals["amount_overdue"] = float(decision.net_overdue)
            vals["amount_due"] = float(decision.total_due)
            vals["note"] = self._left_out_note(decision)
            if decision.trace:
                # Why, as the rules saw it at this moment (collections.why): answerable a year later.
                why = self.env["collections.why"]._data(partner, self.env.company, decision)
                if origin == "manual":
                    why.insert(0, {"code": "manual", "level": level.name if level else ""})
                vals["why"] = why
        vals.update(values)
        if entries is not None:
            entries.append(vals)
            return self.env["collections.action"].sudo().new(vals)
        return self.env["collections.action"]._collections_log(vals)

    def _log_batch(self, sendings):
        """Write the log entries a batch's executions kept (Sending.entries), in one create."""
        entries = [vals for sending in sendings for vals in sending.entries or ()]
        return self.env["collections.action"]._collections_log(entries) if entries else self.env["collections.action"]

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

    def _failure_logger(self, partner, policy, level, channel, origin, today, decision):
        def fail(reason):
            return self._log(
                partner, policy, level, channel, origin, today, decision.listed_move_ids, decision,
                state="failed", failure_reason=reason,
            )
        return fail
