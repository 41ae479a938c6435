import json
from datetime import timedelta

from odoo import fields
from odoo.modules.migration import load_script
from odoo.tests import TransactionCase, freeze_time, tagged
from odoo.tools import SQL
from odoo.tools.convert import convert_file

from .common import TODAY, CollectionsCommon
from .test_ledger import InstalmentCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestMigrationLevelsPerItem(InstalmentCommon):
    """19.0.1.1.0: the invoice's level goes to the receivable items that had fallen due by its last reminder.
    19.0.1.4.0: the levels leave the accounting rows for the addon's narrow tables. The old columns are made in
    the test's transaction (a new database never had them) and go with its rollback."""

    def _migrate(self, script, version):
        name = script.rsplit("/", 1)[-1].removeprefix("post-").removesuffix(".py")
        load_script(f"collections_followup/migrations/{script}", name).migrate(self.env.cr, version)
        self.env.invalidate_all()

    def _columns(self, table, *columns):
        for column, kind in columns:
            self.env.cr.execute(SQL("ALTER TABLE %s ADD COLUMN %s %s", SQL.identifier(table),
                                    SQL.identifier(column), SQL(kind)))

    def _old_move_shape(self, move, level, reminded, count):
        """As 19.0.1.0.0 left it: the level on the invoice only."""
        self.env.cr.execute(
            "UPDATE account_move SET collections_level_id = %s, collections_last_reminder_date = %s, "
            "collections_reminder_count = %s WHERE id = %s", [level.id, reminded, count, move.id])

    def _receivables(self, move):
        return move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable").sorted(
            "date_maturity")

    def _column_exists(self, table, column):
        self.env.cr.execute("SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                            [table, column])
        return bool(self.env.cr.fetchall())

    def test_from_the_first_version_the_levels_reach_the_items_that_were_due(self):
        instalments = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))  # due -100 and -40
        single = self._invoice(self.customer, 500.0, 30)
        self._columns("account_move", ("collections_level_id", "int"), ("collections_last_reminder_date", "date"),
                      ("collections_reminder_count", "int"))
        self._old_move_shape(instalments, self.level_second, TODAY - timedelta(days=50), 2)
        self._old_move_shape(single, self.level_first, TODAY - timedelta(days=20), 1)
        for script in ("19.0.1.1.0/post-levels_per_item.py", "19.0.1.4.0/post-levels_table.py"):
            self._migrate(script, None)  # a fresh install: nothing to do
        self.assertFalse(instalments.line_ids.collections_level_id)
        self.assertFalse(instalments.collections_level_id)
        for _twice in range(2):  # as Odoo runs them, in their versions' order; twice: the same
            self._migrate("19.0.1.1.0/post-levels_per_item.py", "19.0.1.0.0")
            self._migrate("19.0.1.4.0/post-levels_table.py", "19.0.1.0.0")
            first, second = self._receivables(instalments)
            self.assertEqual((first.collections_level_id, first.collections_last_reminder_date),
                             (self.level_second, TODAY - timedelta(days=50)))
            self.assertFalse(second.collections_level_id, "fell due after the last reminder: starts at the first")
            receivable = self._receivables(single)
            self.assertEqual(receivable.collections_level_id, self.level_first)
            self.assertFalse((single.line_ids - receivable).collections_level_id, "only receivable items")
            self.assertEqual(
                [(move.collections_level_id, move.collections_last_reminder_date, move.collections_reminder_count)
                 for move in instalments | single],
                [(self.level_second, TODAY - timedelta(days=50), 2), (self.level_first, TODAY - timedelta(days=20), 1)])
            self.assertFalse(self._column_exists("account_move", "collections_level_id"), "no stale copy is left")

    def test_the_levels_leave_the_accounting_rows_for_the_narrow_tables(self):
        """As 19.0.1.1.0 to 19.0.1.3.0 left a database: the levels in columns of the journal items and invoices."""
        instalments = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        single = self._invoice(self.customer, 500.0, 30)
        untouched = self._invoice(self.customer, 200.0, 5)
        self._columns("account_move", ("collections_level_id", "int"), ("collections_last_reminder_date", "date"),
                      ("collections_reminder_count", "int"))
        self._columns("account_move_line", ("collections_level_id", "int"),
                      ("collections_last_reminder_date", "date"))
        first, second = self._receivables(instalments)
        for line, level, reminded in ((first, self.level_second, TODAY - timedelta(days=50)),
                                      (second, self.level_first, TODAY - timedelta(days=30)),
                                      (self._receivables(single), self.level_first, TODAY - timedelta(days=20))):
            self.env.cr.execute("UPDATE account_move_line SET collections_level_id = %s, "
                                "collections_last_reminder_date = %s WHERE id = %s", [level.id, reminded, line.id])
        self._old_move_shape(instalments, self.level_second, TODAY - timedelta(days=30), 3)
        self._old_move_shape(single, self.level_first, TODAY - timedelta(days=20), 1)
        # A level reached since the update, by the run (its row is the truth, the old column is not read over it).
        self.env["collections.ledger"]._set_levels({self._receivables(single).id: (self.level_second.id, TODAY)},
                                                   reminder_count=1)
        self._migrate("19.0.1.4.0/post-levels_table.py", None)
        self.assertTrue(self._column_exists("account_move_line", "collections_level_id"), "a fresh install: as is")
        for _twice in range(2):
            self._migrate("19.0.1.4.0/post-levels_table.py", "19.0.1.3.0")
            self.assertEqual([(line.collections_level_id, line.collections_last_reminder_date)
                              for line in (first, second, self._receivables(single))],
                             [(self.level_second, TODAY - timedelta(days=50)),
                              (self.level_first, TODAY - timedelta(days=30)), (self.level_second, TODAY)])
            self.assertEqual(
                [(move.collections_level_id, move.collections_last_reminder_date, move.collections_reminder_count)
                 for move in instalments | single | untouched],
                [(self.level_second, TODAY - timedelta(days=30), 3), (self.level_second, TODAY, 1),
                 (self.env["collections.level"], False, 0)])
            for table, column in (("account_move_line", "collections_level_id"),
                                  ("account_move_line", "collections_last_reminder_date"),
                                  ("account_move", "collections_level_id"),
                                  ("account_move", "collections_reminder_count")):
                self.assertFalse(self._column_exists(table, column), f"{table}.{column} dropped")
        # The run reads the moved levels: the instalment reminded at the second level is not reminded at it again.
        items = self.env["collections.ledger"]._open_items(self.company, [self.customer.id])[self.customer.id]
        reached = {item.line_id: item.reached_delay for item in items}
        self.assertEqual(reached[first.id], self.level_second.delay)
        self.assertEqual(reached[second.id], self.level_first.delay)


@tagged("post_install", "-at_install")
class TestMigrationReminderPlaceholders(TransactionCase):
    """19.0.1.1.0: the shipped reminder templates' placeholders become ones Odoo renders without QWeb, in every
    language; what a company changed by hand stays."""

    def test_shipped_placeholders_are_replaced_and_changes_kept(self):
        script = load_script("collections_followup/migrations/19.0.1.1.0/post-reminder_placeholders.py",
                             "reminder_placeholders")
        first = self.env.ref("collections_followup.mail_template_followup_first")
        final = self.env.ref("collections_followup.mail_template_followup_final")
        shipped = str(first.body_html)
        for before, after in script.PLACEHOLDERS:
            shipped = shipped.replace(before, after)
        french = shipped.replace("Dear", "Bonjour").replace("Kind regards", "Cordialement")
        old = {"en_US": shipped, "fr_FR": french}
        for before, after in script.PLACEHOLDERS:  # as 19.0.1.0.0 shipped them
            old = {lang: html.replace(after, before) for lang, html in old.items()}
        self.assertIn("name or ''", old["fr_FR"])
        custom = old["en_US"].replace("According to our records", "Our books show")
        self.env.cr.execute("UPDATE mail_template SET body_html = %s, email_from = %s WHERE id = %s",
                            [json.dumps(old), script.EMAIL_FROM[0], first.id])
        self.env.cr.execute("UPDATE mail_template SET body_html = %s WHERE id = %s",
                            [json.dumps({"en_US": custom}), final.id])
        self.env.invalidate_all()
        self.assertTrue(first._has_unsafe_expression(), "19.0.1.0.0's placeholders go through QWeb")
        script.migrate(self.env.cr, None)  # a fresh install: nothing to do
        self.env.invalidate_all()
        self.assertTrue(first._has_unsafe_expression())
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.0.0")
            self.env.invalidate_all()
            self.assertEqual((self._raw(first, "en_US"), self._raw(first, "fr_FR")), (shipped, french))
            self.assertEqual(first.email_from, script.EMAIL_FROM[1])
            self.assertFalse(first._has_unsafe_expression())
            custom_now = self._raw(final, "en_US")
            self.assertIn("Our books show", custom_now, "a change made by hand is kept")
            self.assertNotIn("or ''", custom_now)
            self.assertFalse(final._has_unsafe_expression())

    def test_the_reminders_no_longer_say_the_invoices_are_attached(self):
        """The sentence leaves the first, second and final reminders' text, in English and French, in a text
        changed by hand too: the invoice table says what the level attaches."""
        script = load_script("collections_followup/migrations/19.0.1.1.0/post-reminder_placeholders.py",
                             "reminder_placeholders")
        first = self.env.ref("collections_followup.mail_template_followup_first")
        second = self.env.ref("collections_followup.mail_template_followup_second")
        shipped = {template: self._raw(template, "en_US") for template in first | second}
        self.assertNotIn("attached", "".join(shipped.values()))
        call = "if we do not hear from you."
        self.assertIn(call, shipped[second])
        (rewrite, _), (sentence, _), (french_rewrite, french_new), (french_sentence, _) = script.SENTENCES
        as_shipped = shipped[first].replace(script.SENTENCES[0][1], rewrite)
        french = f"<div><p>{french_rewrite}</p><p>Un membre de notre équipe vous appellera.{french_sentence}</p></div>"
        by_hand = shipped[second].replace(call, "if we do not hear from you by Friday." + sentence)
        self.env.cr.execute("UPDATE mail_template SET body_html = %s WHERE id = %s",
                            [json.dumps({"en_US": as_shipped, "fr_FR": french}), first.id])
        self.env.cr.execute("UPDATE mail_template SET body_html = %s WHERE id = %s",
                            [json.dumps({"en_US": by_hand}), second.id])
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.0.0")
            self.env.invalidate_all()
            self.assertEqual(self._raw(first, "en_US"), shipped[first])
            self.assertEqual(self._raw(first, "fr_FR"),
                             f"<div><p>{french_new}</p><p>Un membre de notre équipe vous appellera.</p></div>")
            self.assertEqual(self._raw(second, "en_US"),
                             shipped[second].replace(call, "if we do not hear from you by Friday."))

    def _raw(self, template, lang):
        self.env.cr.execute("SELECT body_html->>%s FROM mail_template WHERE id = %s", [lang, template.id])
        return self.env.cr.fetchone()[0]


@tagged("post_install", "-at_install")
class TestMigrationRunWorkers(TransactionCase):
    """19.0.1.1.0: the daily run's second worker is on, and the addon's scheduled actions keep what an
    administrator set on them when the addon is updated."""

    WORKERS = ("collections_followup.ir_cron_collections_run",
               "collections_followup.ir_cron_collections_run_second_worker")

    def test_the_second_worker_is_turned_on_and_the_actions_kept_on_update(self):
        script = load_script("collections_followup/migrations/19.0.1.1.0/post-run_workers.py", "run_workers")
        first, second = (self.env.ref(xmlid) for xmlid in self.WORKERS)
        crons = self.env["ir.model.data"].search([("model", "=", "ir.cron"), ("module", "=", "collections_followup")])
        self.assertGreaterEqual(len(crons), 7)
        self.assertTrue(all(crons.mapped("noupdate")), "installed from data that an update does not write")
        self.assertTrue(second.active)
        # As 19.0.1.0.0 left a database: the second worker off, the actions' data updated by every update.
        second.active = False
        crons.noupdate = False
        script.migrate(self.env.cr, "")
        self.env.invalidate_all()
        self.assertFalse(second.active, "a new database is not migrated")
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.0.0")
            self.env.invalidate_all()
            self.assertTrue(second.active)
            self.assertTrue(all(crons.mapped("noupdate")))
        # An update of the addon loads its data again: what the administrator set stays.
        later = fields.Datetime.now().replace(hour=3, minute=30, second=0, microsecond=0) + timedelta(days=1)
        first.nextcall = later
        second.active = False
        convert_file(self.env, "collections_followup", "data/ir_cron_data.xml", {}, mode="update")
        self.env.invalidate_all()
        self.assertEqual(first.nextcall, later)
        self.assertFalse(second.active, "turned off by the administrator, off after the update")


@tagged("post_install", "-at_install")
class TestMigrationCronGroups(TransactionCase):
    """19.0.1.2.0: the addon's scheduled actions are run by hand by administrators only."""

    def test_existing_scheduled_actions_get_the_administrators_group(self):
        crons = self.env["ir.cron"].search([("ir_actions_server_id.model_id.model", "like", "collections.%")])
        system = self.env.ref("base.group_system")
        self.assertTrue(crons)
        self.assertEqual(set(crons.mapped(lambda cron: system in cron.ir_actions_server_id.group_ids)), {True},
                         "the data of a new database")
        crons.ir_actions_server_id.write({"group_ids": [(5, 0, 0)]})  # as 19.0.1.1.0 left them
        script = load_script("collections_followup/migrations/19.0.1.2.0/post-cron_groups.py", "cron_groups")
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.1.0")
            self.env.invalidate_all()
            self.assertEqual(crons.ir_actions_server_id.group_ids, system)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestMigrationPrivateCorrespondence(CollectionsCommon):
    """19.0.1.3.0: what was logged before is marked collections correspondence (read by finance users only)."""

    def test_logged_messages_and_documents_are_marked(self):
        self._invoice(self.customer, 800.0, 20)
        with self.mock_mail_gateway():
            self._run()
        entry = self._actions(self.customer, channel="email")
        self.assertEqual(len(entry), 1)
        attachment = self.env["ir.attachment"].create({"name": "letter.pdf", "raw": b"%PDF letter",
                                                       "res_model": "res.partner", "res_id": self.customer.id})
        self.env.cr.execute(SQL("UPDATE collections_action SET attachment_id = %s WHERE id = %s",
                                attachment.id, entry.id))
        other = self.customer.message_post(body="A note of the salesperson.")
        # As 19.0.1.2.0 left them: nothing marked.
        self.env.cr.execute("UPDATE mail_message SET collections_private = NULL")
        self.env.cr.execute("UPDATE ir_attachment SET collections_private = NULL")
        self.env.invalidate_all()
        script = load_script("collections_followup/migrations/19.0.1.3.0/post-private_correspondence.py",
                             "private_correspondence")
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.2.0")
            self.env.invalidate_all()
            self.assertTrue(entry.message_id.collections_private)
            self.assertTrue(attachment.collections_private)
            self.assertEqual(set(entry.message_id.attachment_ids.mapped("collections_private")), {True}
                             if entry.message_id.attachment_ids else set())
            self.assertFalse(other.collections_private)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestMigrationFeeCurrency(CollectionsCommon):
    """19.0.1.3.0: the fees charged before have their currency (the company's: all were) and their amount in it."""

    def test_fees_charged_before_are_in_the_company_currency(self):
        self.policy.with_user(self.manager).fee_product_id = self.env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [(6, 0, [])]})
        self.level_first.with_user(self.manager).write({"fee_type": "fixed", "fee_fixed": 25.0})
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        fee = self.env["collections.fee"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(fee), 1)
        euro = self.setup_other_currency("EUR")
        # As the column was added on update: the currency of whoever updated, no amount in company currency.
        self.env.cr.execute(SQL("UPDATE collections_fee SET currency_id = %s, amount_company = NULL WHERE id = %s",
                                euro.id, fee.id))
        self.env.invalidate_all()
        script = load_script("collections_followup/migrations/19.0.1.3.0/post-fee_currency.py", "fee_currency")
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.2.0")
            self.env.invalidate_all()
            self.assertEqual((fee.currency_id, fee.amount, fee.amount_company), (self.company.currency_id, 25.0, 25.0))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestMigrationActionAmount(CollectionsCommon):
    """19.0.1.3.0: the log entries whose Total Due held what they were about (a deferral, a write-off, an
    arrangement) have that amount in its own field."""

    def test_a_deferral_logged_before_has_its_amount(self):
        invoice = self._invoice(self.customer, 1000.0, 30)
        postponed = self.env["collections.action"]._collections_log({
            "partner_id": self.customer.id, "channel": "postpone", "note": "Away"})
        deferred = self.env["collections.action"]._collections_log({
            "partner_id": self.customer.id, "channel": "defer", "move_ids": [(6, 0, invoice.ids)], "note": "Later"})
        # As the old code logged them: the deferral's amount in Total Due, no amount (the column added on update).
        self.env.cr.execute(SQL("UPDATE collections_action SET amount_due = 1000, amount = NULL WHERE id = %s",
                                deferred.id))
        self.env.invalidate_all()
        script = load_script("collections_followup/migrations/19.0.1.3.0/post-action_amount.py", "action_amount")
        for _twice in range(2):
            script.migrate(self.env.cr, "19.0.1.2.0")
            self.env.invalidate_all()
            self.assertEqual((deferred.amount, deferred.amount_due), (1000.0, 1000.0))
            self.assertEqual((postponed.amount, postponed.amount_due), (0.0, 1000.0), "other entries untouched")
