from odoo import api, fields, models


class CollectionsSendMixin(models.AbstractModel):
    """One customer's follow-up as the collector previews it before sending."""

    _name = "collections.send.mixin"
    _description = "Follow-up Preview"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    policy_id = fields.Many2one("collections.policy", readonly=True)
    level_id = fields.Many2one(
        "collections.level", domain="[('policy_id', '=', policy_id)]",
    )
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_overdue = fields.Monetary(readonly=True, currency_field="currency_id")
    send_email = fields.Boolean(string="Email")
    send_sms = fields.Boolean(string="SMS")
    print_letter = fields.Boolean(string="Letter")
    create_activity = fields.Boolean(string="Call Task")
    recipients = fields.Char(compute="_compute_recipients")
    attachment_names = fields.Char(string="Attachments", compute="_compute_recipients")
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    warning = fields.Char(readonly=True)
    contact_warning = fields.Char(
        compute="_compute_contact_warning",
        help="What the customer's contact rules and opt-outs say about contacting it now.",
    )
    result = fields.Selection(
        [("sent", "Sent"), ("failed", "Failed"), ("skipped", "Skipped")], readonly=True,
    )
    result_message = fields.Char(readonly=True)

    @api.model
    def _prepare_values(self, partner, policy, decision):
        level = self.env["collections.level"].browse(decision.level_id)
        move_ids = list(decision.listed_move_ids)
        if not level:
            level = partner.collections_level_id or policy.level_ids.filtered(lambda lvl: lvl.delay > 0)[:1]
            overdue = [d.move_id for d in decision.items if d.days_late > 0 and d.residual > 0]
            open_items = [d.move_id for d in decision.items if d.residual > 0]
            move_ids = overdue or open_items
        values = {
            "partner_id": partner.id,
            "policy_id": policy.id,
            "level_id": level.id,
            "move_ids": [(6, 0, move_ids)],
            "currency_id": self.env.company.currency_id.id,
            "amount_overdue": float(decision.net_overdue),
            "send_email": level.send_email,
            "send_sms": level.send_sms,
            "print_letter": level.print_letter,
            "create_activity": level.create_activity,
        }
        warning = self._warning(partner, policy, level, move_ids)
        values["warning"] = warning
        if level.mail_template_id and move_ids:
            values["subject"], values["body"] = self.env["collections.send"]._render_email(partner, level, move_ids)
        return values

    @api.model
    def _warning(self, partner, policy, level, move_ids):
        if not policy:
            return self.env._("The company has no follow-up policy: create one in Collections > Configuration.")
        if not level:
            return self.env._("The policy '%s' has no level to send.", policy.name)
        if not move_ids:
            return self.env._("Nothing is open on this customer's account.")
        return False

    @api.onchange("level_id")
    def _onchange_level_id(self):
        for line in self.filtered("level_id"):
            line.send_email = line.level_id.send_email
            line.send_sms = line.level_id.send_sms
            line.print_letter = line.level_id.print_letter
            line.create_activity = line.level_id.create_activity
            if line.level_id.mail_template_id and line.move_ids:
                line.subject, line.body = self.env["collections.send"]._render_email(
                    line.partner_id._origin, line.level_id._origin, line.move_ids._origin.ids,
                )

    @api.depends("partner_id", "move_ids", "level_id")
    def _compute_recipients(self):
        for line in self:
            recipients = line.partner_id._collections_recipients() if line.partner_id else line.partner_id
            line.recipients = ", ".join(recipients.mapped("email_formatted")) or False
            names = []
            if line.level_id.attach_invoices:
                names = line.move_ids.filtered(lambda m: m.is_invoice()).mapped("name")
            line.attachment_names = ", ".join(f"{name}.pdf" for name in names) or False

    @api.depends("partner_id", "policy_id", "send_email", "send_sms", "print_letter", "create_activity")
    def _compute_contact_warning(self):
        Send = self.env["collections.send"]
        Rules = self.env["collections.contact.rules"]
        for line in self:
            # sudo: contact history and opt-outs of the wizard's own customer, summed up into a
            # warning for the collector.
            partner = line.partner_id._origin.sudo()
            if not partner:
                line.contact_warning = False
                continue
            channels = {name for name in ("email", "sms", "letter", "call") if line[self._channel_fields[name]]}
            notes = list(Rules._blocked_channels(partner, channels).values())
            if "letter" in channels and Send._no_postal_address(partner):
                notes.append(self.env._(
                    "The customer has no postal address (street, and city or postcode): the letter cannot be printed."
                ))
            timed = channels & {"email", "sms"}
            if timed and line.policy_id._origin:
                wait = Rules._contact_rules_say(partner, line.policy_id._origin, timed)
                if wait:
                    notes.append(wait)
            line.contact_warning = " ".join(notes) or False

    _channel_fields = {"email": "send_email", "sms": "send_sms", "letter": "print_letter", "call": "create_activity"}

    def action_preview_letter(self):
        """The follow-up letter PDF exactly as it would be printed, without logging anything."""
        self.ensure_one()
        return self.env.ref("collections_followup.action_report_followup_letter").report_action(
            self.partner_id, data={"level_id": self.level_id.id, "move_ids": self.move_ids.ids},
        )

    def _send_one(self, today, decisions):
        """Execute this preview; returns 'sent', 'failed' or 'skipped' and writes the result.

        ``decisions``: {partner id: (policy, decision)} decided once for all previews."""
        self.ensure_one()
        if self.warning:
            self.write({"result": "skipped", "result_message": self.warning})
            return "skipped"
        channels = {name for name, field in self._channel_fields.items() if self[field]}
        if not channels:
            self.write({"result": "skipped", "result_message": self.env._("No channel chosen.")})
            return "skipped"
        policy, decision = decisions[self.partner_id.id]
        decision = decision._replace(level_id=self.level_id.id, listed_move_ids=tuple(self.move_ids.ids))
        # What the collector previewed (and possibly edited) is what is sent.
        email = {"subject": self.subject, "body": self.body} if self.body else None
        actions = self.env["collections.send"]._execute(
            self.partner_id, policy, self.level_id, decision, "manual", today, email=email, channels=channels,
        )
        failures = actions.filtered(lambda a: a.state in ("failed", "blocked"))
        if failures:
            self.write({"result": "failed", "result_message": "; ".join(failures.mapped("failure_reason"))})
            return "failed"
        self.write({
            "result": "sent",
            "result_message": ", ".join(filter(None, actions.mapped("recipients"))) or False,
        })
        return "sent"
