"""A batch's reminder emails posted at once (collections.send._post_emails) are the messages, queued emails
and notifications Odoo's message_post makes for each email (collections.send._post_email), and the email of
a customer whose follow-up the run rolls back does not leave."""
from unittest.mock import patch

from markupsafe import Markup

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import TODAY, CollectionsCommon

MESSAGE_FIELDS = ("author_id", "body", "email_add_signature", "email_from", "email_layout_xmlid", "is_internal",
                  "mail_server_id", "message_type", "model", "parent_id", "partner_ids", "record_alias_domain_id",
                  "record_company_id", "record_name", "reply_to", "res_id", "subject", "subtype_id")
MAIL_FIELDS = ("auto_delete", "body_html", "email_cc", "email_from", "email_to", "headers", "is_notification",
               "recipient_ids", "references", "reply_to", "scheduled_date", "state", "subject")


def _value(record, name, own):
    value = record[name]
    if hasattr(value, "ids"):
        return value.ids
    if isinstance(value, str):
        return value.replace(own, "<own message id>")
    return value


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPostEmails(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        domain = env["mail.alias.domain"].sudo().create(
            {"name": "books.example.com", "catchall_alias": "accounts", "bounce_alias": "bounces"})
        cls.company.sudo().alias_domain_id = domain
        # An invoice contact and a copy contact: one message to three addresses.
        cls.family = cls._customer("Family Ltd", "family@example.com")
        env["res.partner"].create([
            {"name": "Fay Invoices", "email": "fay@family.example.com", "type": "invoice",
             "parent_id": cls.family.id},
            {"name": "Carl Copy", "email": "carl@family.example.com", "parent_id": cls.family.id,
             "collections_followup_role": "cc"},
        ])
        # A customer with a history on its chatter: the References header names earlier messages.
        cls.talkative = cls._customer("Talkative SA", "talk@example.com")
        cls.talkative.message_post(body=Markup("<p>Called, will pay Friday.</p>"), message_type="comment",
                                   subtype_xmlid="mail.mt_comment", author_id=cls.collector.partner_id.id)
        cls.talkative.message_post(body=Markup("<p>Internal: watch this one.</p>"), message_type="comment",
                                   subtype_xmlid="mail.mt_note")
        # A customer followed by an internal user on its notes: Odoo's own notification (an inbox one for him).
        cls.followed = cls._customer("Followed GmbH", "followed@example.com")
        cls.followed.message_subscribe(partner_ids=cls.salesman.partner_id.ids,
                                       subtype_ids=env.ref("mail.mt_note").ids)
        cls.salesman.notification_type = "inbox"
        cls.customers = cls.customer | cls.family | cls.talkative | cls.followed

    def _emails(self):
        emails = []
        for index, partner in enumerate(self.customers):
            emails.append({
                "record": partner,
                "subject": f"Reminder {index}: {partner.name}",
                "body": Markup("<p>Dear <b>%s</b>,</p><table><tr><td style='text-align: right'>$ 1,000.00</td>"
                               "</tr></table><p>Kind regards</p>") % partner.name,
                "recipients": partner._collections_recipients(),
                "author": self.collector.partner_id,
                "attachments": [(f"statement-{index}.pdf", b"%PDF-1.4 statement " + bytes([65 + index]))]
                if index % 2 else [],
                "options": {"model_description": "account"},
            })
        return emails

    def _snapshot(self, message):
        message = message.sudo()
        own = message.message_id
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        notifications = self.env["mail.notification"].sudo().search([("mail_message_id", "=", message.id)])
        return {
            "message": {name: _value(message, name, own) for name in MESSAGE_FIELDS},
            "attachments": sorted(
                (a.name, a.raw, a.res_model, a.res_id, a.mimetype, a.description, a.type, a.access_token)
                for a in message.attachment_ids),
            "mails": sorted(tuple((name, repr(_value(mail, name, own))) for name in MAIL_FIELDS) for mail in mails),
            "notifications": sorted(
                (n.res_partner_id.id, n.mail_email_address or "", n.notification_type, n.notification_status,
                 n.is_read, n.author_id.id, bool(n.mail_mail_id)) for n in notifications),
        }

    def test_the_batch_posts_what_message_post_posts(self):
        Send = self.env["collections.send"]
        emails = self._emails()
        singles = [Send._post_email(email["record"], email["subject"], email["body"], email["recipients"],
                                    email["author"], email["attachments"], **email["options"]) for email in emails]
        expected = [self._snapshot(message) for message in singles]
        self.assertEqual(len(expected[1]["mails"][0]), len(MAIL_FIELDS))
        self.assertEqual(len(expected[1]["notifications"]), 2, "its invoice contact and its copy")
        self.assertIn("<own message id>", dict(expected[2]["mails"][0])["references"])
        self.assertGreater(len(dict(expected[2]["mails"][0])["references"].split()), 1, "earlier messages named")
        self.assertIn((self.salesman.partner_id.id, "", "inbox", "sent", False, self.collector.partner_id.id, False),
                      expected[3]["notifications"])
        for message in singles:
            Send._withdraw(message)
        self.assertFalse(self.env["mail.message"].sudo().browse([m.id for m in singles]).exists())

        Partner = self.registry["res.partner"]
        with patch.object(Partner, "_notify_thread", autospec=True, side_effect=Partner._notify_thread) as notify:
            batch = Send._post_emails(emails)
        self.assertEqual([call.args[0] for call in notify.call_args_list], [self.followed],
                         "only the message with an internal recipient goes through Odoo's own notification")
        self.assertEqual([self._snapshot(message) for message in batch], expected)

    def test_an_email_whose_follow_up_is_rolled_back_does_not_leave(self):
        """The run posts a batch's emails before executing its customers; a customer whose execution fails has
        its email withdrawn with everything else of its follow-up, the others keep theirs."""
        victim = self.family
        invoices = {partner: self._invoice(partner, 500.0, 20) for partner in self.customer | victim}
        Send = self.registry["collections.send"]
        advance = Send._advance

        def failing(send, decision, level, today, origin, sending=None):
            if invoices[victim].id in decision.listed_move_ids:
                raise ValueError("the disk is full")
            return advance(send, decision, level, today, origin, sending)

        with self.mock_mail_gateway(), patch.object(Send, "_advance", failing), \
                mute_logger("odoo.addons.collections_followup.models.collections_run"):
            self._run()
        reminded = self._actions(self.customer, channel="email")
        self.assertEqual(reminded.mapped("state"), ["done"])
        self.assertEqual([mail.mail_message_id for mail in self._mails_to(self.customer)], [reminded.message_id])
        failed = self._actions(victim, channel="email")
        self.assertEqual(failed.mapped("state"), ["failed"])
        self.assertIn("the disk is full", failed.failure_reason)
        self.assertFalse(failed.message_id)
        queued = self.env["mail.mail"].sudo().search([("model", "=", "res.partner"), ("res_id", "=", victim.id)])
        self.assertFalse(queued, "its queued email withdrawn")
        self.assertFalse(victim.message_ids.filtered(lambda m: m.message_type == "comment"),
                         "nothing of the reminder on the customer's chatter")
        self.assertFalse(invoices[victim].line_ids.collections_level_id, "no level reached")
        self.assertTrue(invoices[self.customer].line_ids.collections_level_id)

    def test_a_customer_another_worker_reminded_meanwhile_is_left_to_it(self):
        """The batch writes its customers' log entries together after executing them. When another worker logged
        today's reminder of one of them after this one checked, the once-a-day index stops that write: the batch
        is executed again customer by customer, that customer is left to the other worker (the email this one
        posted for it withdrawn) and the others are reminded once."""
        other = self.family
        for partner in self.customer | other:
            self._invoice(partner, 500.0, 20)
        Run = self.registry["collections.run"]
        handled = Run._handled_by_others
        theirs = []

        def meanwhile(run, company, today, partner_ids):
            mine = handled(run, company, today, partner_ids)
            theirs.append(run.env["collections.action"]._collections_log({
                "partner_id": other.id, "company_id": company.id, "channel": "email", "origin": "scheduler",
                "action_date": today, "state": "done", "note": "the other worker's reminder"}))
            return mine

        run_logger = "odoo.addons.collections_followup.models.collections_run"
        with self.mock_mail_gateway(), patch.object(Run, "_handled_by_others", meanwhile), \
                mute_logger("odoo.sql_db"), self.assertLogs(run_logger, "WARNING") as logs:
            self._run()
        self.assertEqual(len(theirs), 1, "one batch")
        self.assertEqual(logs.output, [f"WARNING:{run_logger}:Follow-up of partner {other.id} already done today "
                                       "by another worker"])
        self.assertEqual(self._actions(other), theirs[0], "only the other worker's entry")
        queued = self.env["mail.mail"].sudo().search([("model", "=", "res.partner"), ("res_id", "=", other.id)])
        self.assertFalse(queued, "the email this worker posted for it withdrawn")
        self.assertFalse(other.message_ids.filtered(lambda m: m.message_type == "comment"))
        reminded = self._actions(self.customer)
        self.assertEqual(reminded.mapped("channel"), ["email"])
        self.assertEqual(reminded.state, "done")
        self.assertEqual([mail.mail_message_id for mail in self._mails_to(self.customer)], [reminded.message_id])
