"""The nightly check against the ledger: silent when the figures agree, a task with the figures
when they do not (a planted difference: a receivable item without a customer, which no
reminder can chase)."""
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSelfCheck(CollectionsCommon):

    def _tasks(self):
        return self.env["mail.activity"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.company.partner_id.id),
            ("summary", "=", "Collections figures differ from the ledger"),
        ])

    def test_figures_agree_on_a_real_book(self):
        invoice = self._invoice(self.customer, 1000.0, 30)
        self._pay(invoice, 400.0)
        self._invoice(self.customer, 250.0, -10)
        # Money on account from a journal entry (Odoo marks it no follow-up: a credit all the same), and a debt
        # excluded from follow-up.
        entry = self.env["account.move"].create({
            "move_type": "entry", "journal_id": self.company_data["default_journal_misc"].id, "line_ids": [
                (0, 0, {"name": "On account", "credit": 100.0, "partner_id": self.customer.id,
                        "account_id": self.company_data["default_account_receivable"].id}),
                (0, 0, {"name": "Bank", "debit": 100.0, "account_id": self.company_data["default_account_revenue"].id}),
            ]})
        entry.action_post()
        excluded = self._invoice(self.customer, 70.0, 15)
        excluded.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable").no_followup = True
        figures = self.env["collections.self.check"]._figures(self.company)
        self.assertAlmostEqual(figures["ledger"], 850.0 - 100.0 + 70.0 + self._other_open(), places=2)
        receivable = {key: round(figures[key], 2) for key in ("ledger", "open_items", "aging", "dashboard",
                                                              "decided_due")}
        self.assertEqual(len(set(receivable.values())), 1, figures)
        self.assertGreaterEqual(figures["overdue_ledger"], 600.0 - 100.0)
        self.assertAlmostEqual(figures["overdue_decided"], figures["overdue_ledger"], places=2)
        self.env["collections.self.check"]._cron_self_check()
        self.assertFalse(self._tasks())
        # What the decisions ask differing from the journal items' overdue is a difference too.
        self.assertTrue(self.env["collections.self.check"]._disagree(
            self.company, {**figures, "overdue_decided": figures["overdue_ledger"] + 1.0}))

    def _other_open(self):
        """Open receivable the test company had before the test (the common set-up's), if any."""
        lines = self.env["account.move.line"].search([
            ("company_id", "=", self.company.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
            ("partner_id", "!=", self.customer.id),
        ])
        return sum(lines.mapped("amount_residual"))

    def test_a_planted_difference_creates_a_task_with_the_figures(self):
        self._invoice(self.customer, 1000.0, 30)
        entry = self.env["account.move"].create({
            "move_type": "entry", "journal_id": self.company_data["default_journal_misc"].id,
            "line_ids": [
                (0, 0, {"name": "Receivable without a customer", "debit": 500.0,
                        "account_id": self.company_data["default_account_receivable"].id}),
                (0, 0, {"name": "Revenue", "credit": 500.0,
                        "account_id": self.company_data["default_account_revenue"].id}),
            ],
        })
        entry.action_post()
        figures = self.env["collections.self.check"]._figures(self.company)
        self.assertAlmostEqual(figures["ledger"] - figures["open_items"], 500.0, places=2)
        self.env["collections.self.check"]._cron_self_check()
        tasks = self._tasks()
        self.assertEqual(tasks.user_id, self.manager)
        self.assertIn("Ledger", tasks.note)
        self.assertIn("1,500.00", tasks.note)  # the ledger's figure, with the planted 500
        self.assertIn("1,000.00", tasks.note)  # what Collections reads
        self.env["collections.self.check"]._cron_self_check()
        self.assertEqual(len(self._tasks()), 1, "one task a day, however often the check runs")
