from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._collections_ensure_default_policy()
        return companies

    def _collections_ensure_default_policy(self):
        """Create the standard four-level policy for companies that have none."""
        Policy = self.env["collections.policy"].sudo()  # companies are created by admins for all users
        have = set(Policy.with_context(active_test=False).search(
            [("company_id", "in", self.ids), ("is_default", "=", True)]
        ).company_id.ids)
        templates = {
            key: self.env.ref(f"collections_followup.mail_template_followup_{key}", raise_if_not_found=False)
            for key in ("courtesy", "first", "second", "final")
        }
        call = self.env.ref("mail.mail_activity_data_call", raise_if_not_found=False)
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        _ = self.env._
        vals_list = []
        for company in self.filtered(lambda c: c.id not in have):
            vals_list.append({
                "name": _("Standard follow-up"),
                "company_id": company.id,
                "is_default": True,
                # Tasks of customers without a collector go to a person, never to OdooBot.
                "user_id": admin.id if admin and company in admin.company_ids else False,
                "level_ids": [
                    (0, 0, {
                        "name": _("Courtesy reminder"), "delay": -5,
                        "mail_template_id": templates["courtesy"].id, "attach_invoices": False,
                    }),
                    (0, 0, {
                        "name": _("First reminder"), "delay": 7,
                        "mail_template_id": templates["first"].id,
                    }),
                    (0, 0, {
                        "name": _("Second reminder"), "delay": 21,
                        "mail_template_id": templates["second"].id,
                        "create_activity": True, "activity_type_id": call.id,
                        "activity_summary": _("Call the customer about the overdue invoices"),
                    }),
                    (0, 0, {
                        "name": _("Final notice"), "delay": 45,
                        "mail_template_id": templates["final"].id,
                        "print_letter": True, "create_activity": True, "activity_type_id": call.id,
                        "activity_summary": _("Final notice sent: call before escalating"),
                    }),
                ],
            })
        Policy.create(vals_list)
