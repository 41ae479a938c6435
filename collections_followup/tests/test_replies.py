from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon

# What a customer's mail program sends back when they answer a reminder: a raw RFC 822 message, threaded
# on the reminder by In-Reply-To and References, as Odoo's mail gateway (fetchmail, the mail relay) hands it.
RAW_REPLY = """\
From: Anna Acme <acme@example.com>
To: {to}
Subject: Re: {subject}
Message-ID: {message_id}
In-Reply-To: {parent}
References: {parent}
Date: Tue, 31 Mar 2026 09:12:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
{headers}
We paid invoice {invoice} last week by bank transfer; please check your account.

Anna
"""


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCustomerReplies(CollectionsCommon):
    """A customer's email reply to a follow-up comes back through Odoo's mail gateway, lands on the
    customer, gives the collector a task and pauses the automatic reminders for the policy's days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.company.alias_domain_id:
            cls.company.alias_domain_id = cls.mail_alias_domain
        # Ten days late: the first reminder (7 days) goes today; the second (21 days, 14 after the first)
        # would go on day 11 without a pause.
        cls.invoice = cls._invoice(cls.customer, 1000.0, 10)

    def _remind(self, today=TODAY):
        with self.mock_mail_gateway():
            self._run(today=today)
        mails = self._mails_to(self.customer)
        reminders = self._actions(self.customer, channel="email", state="done")
        return reminders.sorted("id")[-1:], mails

    def _reply(self, parent, message_id="<reply-1@acme.example>", headers="", sender=None):
        raw = RAW_REPLY.format(
            to=self.company.catchall_email, subject=parent.subject or "", message_id=message_id,
            parent=parent.message_id, headers=headers, invoice=self.invoice.name,
        )
        if sender:
            raw = raw.replace("From: Anna Acme <acme@example.com>", f"From: {sender}")
        # The gateway's user: Odoo processes incoming mail as its superuser (fetchmail, the mail relay script).
        gateway = self.env["mail.thread"].with_user(self.env.ref("base.user_root"))
        with self.mock_mail_gateway():
            gateway.message_process(False, raw.encode())
        return self.env["mail.message"].search([("message_id", "=", message_id)])

    def _tasks(self):
        return self.env["mail.activity"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id),
            ("activity_type_id", "=", self.env.ref("collections_followup.mail_activity_type_reply").id),
        ])

    def _postponed_until(self):
        customer = self.customer.with_company(self.company)
        customer.invalidate_recordset()
        return customer.collections_postponed_until

    def test_a_reply_lands_on_the_customer_with_a_task_and_a_pause(self):
        self.policy.with_user(self.manager).reply_pause_days = 20
        reminder, mails = self._remind()
        self.assertEqual(len(reminder), 1)
        # The reminder's Reply-To is the company's catchall, so that the answer comes back into Odoo.
        self.assertEqual(len(mails), 1)
        self.assertIn(self.company.catchall_email, mails[0].reply_to)
        self.assertEqual(self.policy.reply_address, self.company.catchall_email)

        reply = self._reply(reminder.message_id)
        self.assertEqual(len(reply), 1)
        self.assertEqual((reply.model, reply.res_id), ("res.partner", self.customer.id))
        self.assertEqual(reply.parent_id, reminder.message_id)
        self.assertIn("We paid invoice", reply.body)

        task = self._tasks()
        self.assertEqual(len(task), 1)
        self.assertEqual(task.user_id, self.collector)
        self.assertIn("We paid invoice", task.note)
        # The collector sees it among their own activities.
        self.assertEqual(self.env["mail.activity"].with_user(self.collector).search([("id", "=", task.id)]), task)

        self.assertEqual(self._postponed_until(), TODAY + timedelta(days=20))
        entry = self._actions(self.customer, channel="reply")
        self.assertEqual(len(entry), 1)
        self.assertEqual((entry.origin, entry.message_id), ("customer", reply))
        self.assertIn("We paid invoice", entry.note)
        self.assertIn(str(TODAY + timedelta(days=20)), entry.note)

        # Day 12: the second reminder was due on day 11, but the reply pauses it.
        _sent, mails = self._remind(TODAY + timedelta(days=12))
        self.assertEqual(mails, [])
        self.assertEqual(len(self._actions(self.customer, channel="email", state="done")), 1)
        # Once the pause is over, the follow-up resumes where it was.
        sent, mails = self._remind(TODAY + timedelta(days=21))
        self.assertEqual(len(mails), 1)
        self.assertEqual(sent.level_id, self.level_second)

    def test_an_out_of_office_reply_pauses_nothing(self):
        reminder, _mails = self._remind()
        reply = self._reply(reminder.message_id, headers="Auto-Submitted: auto-replied\n")
        # Odoo keeps it on the customer; Collections makes nothing of it but a line in the log.
        self.assertEqual((reply.model, reply.res_id), ("res.partner", self.customer.id))
        self.assertFalse(self._tasks())
        self.assertFalse(self._postponed_until())
        self.assertIn("Automatic reply", self._actions(self.customer, channel="reply").note)
        for headers in ("X-Autoreply: yes\n", "Precedence: auto_reply\n", "X-Auto-Response-Suppress: All\n"):
            with self.subTest(headers=headers):
                self._reply(reminder.message_id, message_id=f"<auto-{len(headers)}@acme.example>", headers=headers)
                self.assertFalse(self._tasks())
                self.assertFalse(self._postponed_until())

    def test_a_reply_delivered_twice_counts_once_and_one_task_waits(self):
        reminder, _mails = self._remind()
        self._reply(reminder.message_id)
        self._reply(reminder.message_id)  # the same email again (a mail server retrying)
        self.assertEqual(len(self._actions(self.customer, channel="reply")), 1)
        self.assertEqual(len(self._tasks()), 1)
        # A second email while the task is open: logged, the same task.
        self._reply(reminder.message_id, message_id="<reply-2@acme.example>")
        self.assertEqual(len(self._actions(self.customer, channel="reply")), 2)
        self.assertEqual(len(self._tasks()), 1)
        self.assertEqual(self._postponed_until(), TODAY + timedelta(days=self.policy.reply_pause_days))

    def test_a_later_manual_postponement_is_kept(self):
        reminder, _mails = self._remind()
        later = TODAY + timedelta(days=40)
        self.env["collections.postpone.wizard"].with_user(self.collector).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({"date": later, "reason": "Awaiting their audit"}).action_postpone()
        self._reply(reminder.message_id)
        self.assertEqual(self._postponed_until(), later)
        self.assertEqual(len(self._tasks()), 1)
        self.assertIn("already postponed", self._actions(self.customer, channel="reply").note)

    def test_a_reply_on_a_promise_counts_and_other_conversations_do_not(self):
        promise = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)], "amount": 1000.0,
            "promised_date": TODAY + timedelta(days=7),
        })
        with self.mock_mail_gateway():
            sent = promise.with_user(self.collector).message_post(
                body="Thank you for your promise.", partner_ids=self.customer.ids,
                message_type="comment", subtype_xmlid="mail.mt_comment",
            )
        reply = self._reply(sent)
        self.assertEqual((reply.model, reply.res_id), ("collections.promise", promise.id))
        self.assertEqual(len(self._tasks()), 1)
        self.assertEqual(self._postponed_until(), TODAY + timedelta(days=self.policy.reply_pause_days))

        # A salesperson's email from the customer's form is not a follow-up: its answer is Odoo's alone.
        self._tasks().unlink()
        with self.mock_mail_gateway():
            offer = self.customer.with_user(self.salesman).message_post(
                body="Our spring catalogue", partner_ids=self.customer.ids,
                message_type="comment", subtype_xmlid="mail.mt_comment",
            )
        before = len(self._actions(self.customer, channel="reply"))
        self._reply(offer, message_id="<reply-sales@acme.example>")
        self.assertFalse(self._tasks())
        self.assertEqual(len(self._actions(self.customer, channel="reply")), before)

    def test_an_employee_answering_by_email_is_not_the_customer(self):
        reminder, _mails = self._remind()
        self._reply(reminder.message_id, sender="Colin Collector <colin@company.example.com>")
        self.assertFalse(self._tasks())
        self.assertFalse(self._actions(self.customer, channel="reply"))

    def test_without_a_catchall_the_policy_says_where_replies_go(self):
        self.company.alias_domain_id = False
        self.policy.invalidate_recordset(["reply_address"])
        self.assertIn("sender's own mailbox", self.policy.reply_address)
