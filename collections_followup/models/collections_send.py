from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models

from ..engine.contact import next_contact
from ..engine.errors import RuleError
from .collections_contact_rules import TIMED_CHANNELS

# Channels that reach the customer: the level counts as sent once one of them went out.
REMINDER_CHANNELS = {"email", "sms", "letter"}


class CollectionsSend(models.AbstractModel):
    """The sending service: one customer's follow-up at a level, every channel (email, SMS, letter, call
    task, review request), the log entries and the levels reached. The daily run (collections.run), the
    send wizard and the call wizard use it.

    Why its sudo() calls are safe: every method here is private (not callable over RPC) and its callers
    already decided who may act (the scheduled actions, the collectors-only wizards, the managers' "Run
    Follow-ups Now"). Each sudo() reads or writes only the customer, invoices, log entries and documents of
    the follow-up being executed."""

    _name = "collections.send"
    _description = "Follow-up Sending"

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
        blocked = self.env["collections.contact.rules"]._blocked_channels(partner, channels)
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
        fees = []
        if channels & {"email", "letter"}:
            fees = self.env["collections.fee"]._fees_due(partner, policy, level, decision, origin, today)
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

    # --- contact rules -----------------------------------------------------

    def _contact_wait(self, partner, policy, level, decision, today, now, channels):
        """A 'waiting for contact rules' log entry when the rules do not allow ``channels`` at ``now``."""
        wait = self.env["collections.contact.rules"]._rules_wait(partner, policy, channels, now)
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

    # --- levels reached, log entries, who follows up -----------------------

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

    # --- email -------------------------------------------------------------

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
        # The layout's header reads "Your <model description>": "Your account", not "Your Contact".
        message = self._post_email(partner, subject, body, recipients, author, attachments,
                                   model_description=self.env._("account"))
        return self._log(
            partner, policy, level, "email", origin, today, move_ids, decision,
            message_id=message.id,
            recipients=", ".join(recipients.mapped("email_formatted")),
        )

    def _post_email(self, record, subject, body, recipients, author, attachments=(), **options):
        """Post an email to the customer's ``recipients`` on ``record``'s chatter (the customer, a plan): queued
        (Odoo's mail queue sends it), in the light layout, from ``author`` (the collector), with ``attachments``
        [(name, bytes)]. Every email of the follow-ups goes out this way."""
        return record.with_context(mail_notify_force_send=False, mail_post_autofollow=False).message_post(
            body=body,
            subject=subject,
            partner_ids=recipients.ids,
            author_id=author.id,
            email_from=author.email_formatted or self.env.company.email_formatted,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachments=list(attachments),
            email_layout_xmlid="mail.mail_notification_light",
            **options,
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


    # --- SMS ---------------------------------------------------------------

    def _send_sms(self, partner, policy, level, decision, origin, today):
        fail = self._failure_logger(partner, policy, level, "sms", origin, today, decision)
        if not level.sms_template_id:
            return fail(self.env._("Level '%s' has no SMS template.", level.name))
        commercial = partner.commercial_partner_id
        if not commercial.active:
            return fail(self._no_recipient_reason(commercial))
        number, error = self.env["collections.contact.rules"]._sms_number(commercial)
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

    @api.model
    # --- letter ------------------------------------------------------------

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

    # --- tasks -------------------------------------------------------------

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
        Rules = self.env["collections.contact.rules"]
        tz = Rules._customer_tz(partner)
        local = when.astimezone(ZoneInfo(tz))
        script = self.env["ir.qweb"]._render("collections_followup.call_script", {
            "partner": partner.commercial_partner_id,
            "lines": [line for line in self.env["collections.ledger"]._reminder_rows(
                partner, self.env.company, move_ids=set(decision.listed_move_ids)) if not line.get("credit")],
            "overdue": float(decision.total_overdue),
            "due": float(decision.total_due),
            "currency": self.env.company.currency_id,
            "days_late": decision.oldest_days_late,
            "phone": Rules._sms_number(partner)[0] or partner.commercial_partner_id.phone,
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
        Rules = self.env["collections.contact.rules"]
        calls = [instant for channel, instant in Rules._contact_history(partner, since) if channel == "call"]
        try:
            return next_contact(moment, Rules._customer_tz(partner), rules.rules("call"), calls)
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
