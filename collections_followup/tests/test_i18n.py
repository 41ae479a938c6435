from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestTranslatedReminders(CollectionsCommon):
    """A customer who reads French gets its reminder in French, from the addon's fr.po."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["collections_followup"], ["fr_FR"], overwrite=True)
        cls.customer.write({"phone": "0470 12 34 56", "country_id": cls.env.ref("base.be").id})
        cls.level_first.sudo().send_sms = True
        cls.english = cls._customer("English Ltd", "english@example.com")

    def test_reminder_follows_the_customers_language(self):
        self.customer.lang = "fr_FR"
        self._invoice(self.customer, 640.0, 10)
        self._invoice(self.english, 320.0, 10)
        with self.mock_mail_gateway():
            self._run()
        french = self._mails_to(self.customer)[0]
        self.assertEqual(french.subject, f"{self.company.name} : rappel de paiement")
        self.assertIn("Selon nos écritures, les factures suivantes sont désormais échues.", french.body_html)
        self.assertIn("Bonjour", french.body_html)
        self.assertNotIn("According to our records", french.body_html)
        sms = self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)])
        self.assertIn("sont échus sur votre compte", sms.body)
        # The same run, the same level: a customer without a language setting reads English.
        english = self._mails_to(self.english)[0]
        self.assertEqual(english.subject, f"{self.company.name}: payment reminder")
        self.assertIn("According to our records", english.body_html)

    def test_collectors_messages_follow_the_users_language(self):
        """Warnings are in the language of the user who reads them (a web request's context carries it)."""
        self.collector.sudo().lang = "fr_FR"
        wizard = self.env["collections.send.wizard"].with_user(self.collector).with_context(
            lang=self.collector.lang, active_model="res.partner", active_ids=self.customer.ids,
        ).create({})
        self.assertEqual(wizard.warning, "Rien n'est ouvert sur le compte de ce client.")
