from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon

# The tables the run writes (what it sends, charges, sets and logs): the preview must change none.
RUN_TABLES = {
    "collections_action": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM collections_action",
    "mail_mail": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM mail_mail",
    "mail_message": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM mail_message",
    "mail_activity": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM mail_activity",
    "collections_fee": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM collections_fee",
    "account_move": "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM account_move",
    "account_move_line": "SELECT COUNT(*), md5(string_agg(id || ':' || amount_residual, ',' ORDER BY id)) "
                         "FROM account_move_line",
    "collections_item_level": "SELECT COUNT(*), md5(string_agg(line_id || ':' || COALESCE(level_id, 0) || ':' "
                              "|| COALESCE(reminded_on::text, ''), ',' ORDER BY line_id)) FROM collections_item_level",
    "collections_invoice_level": "SELECT COUNT(*), md5(string_agg(move_id || ':' || COALESCE(level_id, 0) || ':' "
                                 "|| COALESCE(reminded_on::text, '') || ':' || reminder_count, ',' ORDER BY move_id)) "
                                 "FROM collections_invoice_level",
    "res_partner": "SELECT md5(string_agg(id || ':' || COALESCE(collections_credit_hold::text, '') || "
                   "COALESCE(collections_postponed_until::text, ''), ',' ORDER BY id)) FROM res_partner",
}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRunPreview(CollectionsCommon):
    """The run of a day, today or up to 30 days ahead, before it happens: what it would send, to whom,
    for how much and why, written nowhere; and what the preview of today says is what the run does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late = cls._invoice(cls.customer, 1000.0, 10)  # the first reminder (7 days) is due today
        cls.other = cls._customer("Beta Traders", "beta@example.com")
        cls.soon = cls._invoice(cls.other, 500.0, 5)  # its first reminder falls due in 2 days
        cls.paid = cls._customer("Gamma Paid", "gamma@example.com")
        cls._pay(cls._invoice(cls.paid, 300.0, 30), 300.0)

    def _preview(self, day):
        preview = self.env["collections.run.preview"].with_user(self.collector).create({"date": day})
        preview.action_preview()
        return preview

    def _snapshot(self):
        self.env.flush_all()
        return {table: self.env.cr.execute(query) or self.env.cr.fetchall() for table, query in RUN_TABLES.items()}

    def test_today_is_what_the_run_does(self):
        before = self._snapshot()
        preview = self._preview(TODAY)
        self.assertEqual(self._snapshot(), before, "a preview writes nothing the run writes")
        line = preview.line_ids
        self.assertEqual(line.partner_id, self.customer)
        self.assertEqual((line.level_id, line.channels, line.amount, line.change),
                         (self.level_first, "Email", 1000.0, "new"))
        self.assertEqual(line.recipients, "acme@example.com")
        self.assertIn(f"Level “{self.level_first.name}” is due", line.why)
        self.assertIn("10 days late: reaches level", str(line.why_html))
        self._run()
        sent = self.env["collections.action"].search([("channel", "=", "email"), ("state", "=", "done")])
        self.assertEqual(
            [(action.partner_id, action.level_id, action.why[0]["amount"]) for action in sent],
            [(line.partner_id, line.level_id, "1000.00")],
        )
        # Today's run has handled the customer: a new preview of today no longer lists it.
        self.assertFalse(self._preview(TODAY).line_ids)

    def test_days_ahead_follow_the_runs_before_them(self):
        # Tomorrow: the customer reminded today waits for its second level; nobody else is due.
        self.assertFalse(self._preview(TODAY + timedelta(days=1)).line_ids)
        # In 2 days: the other customer's first reminder, new against the day before.
        preview = self._preview(TODAY + timedelta(days=2))
        self.assertEqual(preview.line_ids.mapped("partner_id"), self.other)
        self.assertEqual(preview.line_ids.change, "new")
        # Two weeks ahead: the first customer's second reminder, the gap between the two levels after the
        # first one that today's run sends (one reminder before it).
        day = TODAY + timedelta(days=self.level_second.delay - self.level_first.delay)
        preview = self._preview(day)
        line = preview.line_ids.filtered(lambda line: line.partner_id == self.customer)
        self.assertEqual((line.level_id, line.reminders_before), (self.level_second, 1))
        self.assertEqual((preview.customer_count, preview.email_count, preview.amount_total), (1, 1, 1000.0))
        self.assertIn(f"reaches level “{self.level_second.name}”", str(line.why_html))

    def test_only_the_current_company(self):
        """The preview is of the user's current company, which Odoo checks is one of theirs: another
        company's customers are never listed, whatever a request sends."""
        other = self.setup_other_company()["company"]
        preview = self.env["collections.run.preview"].with_user(self.collector).create({"date": TODAY})
        self.assertNotIn("company_id", preview._fields)
        with self.assertRaises(AccessError):
            preview.with_context(allowed_company_ids=[other.id]).action_preview()

    def test_only_the_next_thirty_days(self):
        Preview = self.env["collections.run.preview"].with_user(self.collector)
        for day in (TODAY - timedelta(days=1), TODAY + timedelta(days=31)):
            with self.assertRaises(UserError):
                Preview.create({"date": day})
        Preview.create({"date": TODAY + timedelta(days=30)})

    def test_a_level_setting_a_hold_and_charging_a_fee_says_so(self):
        product = self.env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [(6, 0, [])],
        })
        self.policy.sudo().fee_product_id = product
        self.level_first.sudo().write({"credit_hold": True, "fee_type": "fixed", "fee_fixed": 40.0})
        preview = self._preview(TODAY)
        self.assertEqual((preview.line_ids.sets_hold, preview.line_ids.fee_amount), (True, 40.0))
        self.assertEqual((preview.hold_count, preview.fee_total), (1, 40.0))
        self.assertFalse(self.customer.with_company(self.company).collections_credit_hold)
        self._run()
        fee = self.env["collections.fee"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(fee.amount, 40.0)
        self.assertTrue(self.customer.with_company(self.company).collections_credit_hold)

    def test_todays_review_of_the_holds(self):
        """The run ends with its review of the holds: a hold whose cause is gone is released, and the
        preview of today says so (the days after, nothing it reads has changed)."""
        paid = self.paid.with_company(self.company)
        paid.sudo()._collections_set_hold("follow-up level reached", "level", self.company, self.level_final)
        preview = self._preview(TODAY)
        line = preview.line_ids.filtered(lambda line: line.partner_id == self.paid)
        self.assertEqual((line.releases_hold, line.hold_reason, line.status),
                         (True, "nothing overdue left, net of its credits", "none"))
        self.assertEqual((preview.release_count, preview.customer_count), (1, 1))
        self.assertFalse(self._preview(TODAY + timedelta(days=1)).line_ids.filtered("releases_hold"))
        self.assertTrue(paid.collections_credit_hold, "a preview releases nothing")
        self._run()
        paid.invalidate_recordset()
        self.assertFalse(paid.collections_credit_hold)

    def test_a_level_reviewed_first_sends_nothing(self):
        self.level_first.sudo().manual_review = True
        line = self._preview(TODAY).line_ids
        self.assertEqual((line.review, line.channels, line.email, line.fee_amount),
                         (True, "Review Request", False, 0.0))
        self.assertEqual(line.preview_id.email_count, 0)

    def test_the_printed_summary(self):
        preview = self._preview(TODAY)
        html = self.env["ir.actions.report"].with_user(self.collector)._render_qweb_html(
            "collections_followup.report_run_preview", preview.ids)[0].decode()
        self.assertIn("Acme Corp", html)
        self.assertIn(f"Level “{self.level_first.name}” is due", html)
        self.assertEqual(preview.action_print()["report_name"], "collections_followup.report_run_preview")
