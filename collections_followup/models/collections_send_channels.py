from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import fields, models

from ..engine.contact import next_contact
from ..engine.errors import RuleError


class CollectionsSend(models.AbstractModel):
    """The sending service's channels besides email: SMS, letters, call tasks, review and contact-fix
    requests (collections.send). Each logs what it did through collections.send._log."""

    _inherit = "collections.send"

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

    # --- letter ------------------------------------------------------------

    def _no_postal_address(self, partner):
        """True when the customer's address cannot take a letter (street, and city or postcode)."""
        commercial = partner.commercial_partner_id
        return not (commercial.street or commercial.street2) or not (commercial.city or commercial.zip)

    def _letter_note(self, level):
        """The customer's chatter note beside a letter the run made."""
        return self.env._("Follow-up letter (%s) ready to print and post.", level.name)

    def _make_letter(self, partner, policy, level, decision, origin, today, fees=()):
        """The letter's PDF on the log and the customer's chatter; ``fees``: those it announces."""
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
            "listed_items": list(decision.listed_items), "fees": tuple(fees),
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
            "overdue": float(decision.net_overdue),
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
