from datetime import date
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPolicyBacktest(CollectionsCommon):
    """A policy tried on the ledger's past, beside the current one: the counts of a hand-made quarter
    whose answers are worked out below, from invoices and payments made through Odoo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Acme: due 10 Jan, paid 20 Feb. Default policy: courtesy 5 Jan, first 17 Jan, second 31 Jan
        # (final on 24 Feb comes after the payment).
        cls._pay(cls._invoice(cls.customer, 1000.0, (TODAY - date(2026, 1, 10)).days), 1000.0, date(2026, 2, 20))
        # Beta: due 10 Feb, paid 19 Feb: courtesy 5 Feb, first 17 Feb -> paid two days later: needless.
        cls.beta = cls._customer("Beta Traders", "beta@example.com")
        cls._pay(cls._invoice(cls.beta, 300.0, (TODAY - date(2026, 2, 10)).days), 300.0, date(2026, 2, 19))
        # The draft: the same policy, its first reminder at 14 days instead of 7, archived.
        cls.draft = cls.policy.with_user(cls.manager).copy({"name": "First at 14 days", "is_default": False})
        cls.draft.level_ids.filtered(lambda level: level.delay == cls.level_first.delay).delay = 14
        cls.draft.active = False

    def _compare(self, user=None, **values):
        backtest = self.env["collections.policy.backtest"].with_user(user or self.manager).create({
            "policy_id": self.policy.id, "draft_policy_id": self.draft.id, "months": 3, **values,
        })
        backtest.action_compare()
        return {line.label: (line.current, line.draft) for line in backtest.line_ids}

    def test_a_later_first_reminder_on_a_known_quarter(self):
        figures = self._compare()
        self.assertEqual(figures["Reminders"], (5.0, 4.0))
        self.assertEqual(figures["Customers reminded"], (2.0, 2.0))
        self.assertEqual(figures["Needless reminders (paid within the days anyway)"], (1.0, 0.0))
        first = f"Level 2: {self.level_first.name} / {self.level_first.name}"
        self.assertEqual(figures[first], (2.0, 1.0))
        self.assertEqual(figures[f"Level 1: {self.level_courtesy.name} / {self.level_courtesy.name}"], (2.0, 2.0))
        self.assertEqual(figures[f"Level 3: {self.level_second.name} / {self.level_second.name}"], (1.0, 1.0))
        # Needless counts a reminder paid within the days chosen: within 1 day, Beta's is not.
        figures = self._compare(paid_within=1)
        self.assertEqual(figures["Needless reminders (paid within the days anyway)"], (0.0, 0.0))

    def test_managers_of_the_company_only(self):
        with self.assertRaises(AccessError):
            self._compare(user=self.collector)
        other = self.setup_other_company()["company"]
        foreign = self.env["collections.policy"].sudo()._get_default_policy(other)
        backtest = self.env["collections.policy.backtest"].with_user(self.manager).create({
            "policy_id": self.policy.id, "draft_policy_id": foreign.id, "months": 3,
        })
        with self.assertRaises(AccessError):
            backtest.action_compare()

    def test_a_large_ledger_is_compared_in_the_background(self):
        """Above the inline size the comparison is queued, then made by the scheduled job as the manager
        who asked, who is notified; the figures are those of the inline comparison."""
        inline = self._compare()
        Backtest = self.env["collections.policy.backtest"]
        backtest = Backtest.with_user(self.manager).create({
            "policy_id": self.policy.id, "draft_policy_id": self.draft.id, "months": 3,
        })
        with patch.object(type(Backtest), "_inline_items", 0):
            backtest.action_compare()
        self.assertEqual((backtest.state, len(backtest.line_ids)), ("queued", 0))
        notices = self.env["bus.bus"].sudo().search_count([])
        Backtest._cron_compare_queued()
        self.assertEqual(backtest.state, "done")
        self.assertEqual({line.label: (line.current, line.draft) for line in backtest.line_ids}, inline)
        self.assertEqual(backtest.line_ids.create_uid, self.manager, "made as the manager who asked")
        self.env.cr.precommit.run()  # Odoo writes the notifications to the bus as the transaction commits
        sent = self.env["bus.bus"].sudo().search([], order="id desc", limit=1)
        self.assertGreater(self.env["bus.bus"].sudo().search_count([]), notices)
        self.assertIn("is ready", sent.message)
        # A company the user no longer works in: the job refuses and says why.
        other = self.setup_other_company()["company"]
        backtest.sudo().write({"state": "queued", "company_id": other.id})
        Backtest._cron_compare_queued()
        self.assertEqual(backtest.state, "failed")
        self.assertIn("does not work in", backtest.error)
