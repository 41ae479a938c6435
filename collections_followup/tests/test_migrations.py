from datetime import timedelta

from odoo.modules.migration import load_script
from odoo.tests import freeze_time, tagged

from .common import TODAY
from .test_ledger import InstalmentCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestMigrationLevelsPerItem(InstalmentCommon):
    """19.0.1.1.0: the invoice's level goes to the receivable items that had fallen due by its last reminder."""

    def _migrate(self, version="19.0.1.0.0"):
        script = load_script("collections_followup/migrations/19.0.1.1.0/post-levels_per_item.py", "levels_per_item")
        script.migrate(self.env.cr, version)
        self.env.invalidate_all()

    def _old_shape(self, move, level, reminded):
        """As 19.0.1.0.0 left it: the level on the invoice only."""
        self.env.cr.execute(
            "UPDATE account_move SET collections_level_id = %s, collections_last_reminder_date = %s WHERE id = %s",
            [level.id, reminded, move.id])
        self.env.cr.execute(
            "UPDATE account_move_line SET collections_level_id = NULL, collections_last_reminder_date = NULL "
            "WHERE move_id = %s", [move.id])
        self.env.invalidate_all()

    def test_levels_move_to_the_items_that_were_due(self):
        instalments = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))  # due -100 and -40
        single = self._invoice(self.customer, 500.0, 30)
        self._old_shape(instalments, self.level_second, TODAY - timedelta(days=50))
        self._old_shape(single, self.level_first, TODAY - timedelta(days=20))
        self._migrate(version=None)  # a fresh install: nothing to do
        self.assertFalse(instalments.line_ids.collections_level_id)
        self._migrate()
        first, second = instalments.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable").sorted("date_maturity")
        self.assertEqual((first.collections_level_id, first.collections_last_reminder_date),
                         (self.level_second, TODAY - timedelta(days=50)))
        self.assertFalse(second.collections_level_id, "fell due after the last reminder: starts at the first level")
        receivable = single.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertEqual(receivable.collections_level_id, self.level_first)
        self.assertFalse((single.line_ids - receivable).collections_level_id, "only receivable items")
        self._migrate()  # run twice: the same
        self.assertEqual(first.collections_level_id, self.level_second)
        self.assertFalse(second.collections_level_id)
