from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, split_every

from ..engine import Ladder
from ..engine.simulate import decide_ahead
from ..models.res_partner import STATUSES

HORIZON_DAYS = 30


class CollectionsRunPreview(models.TransientModel):
    """What the daily run would do on a day, today or up to 30 days ahead, before it does it.

    Decided by the engine as the run decides (res.partner._collections_decide's policies and ladders,
    engine.simulate.decide_ahead for the days between), on the ledger as it is now: nothing is paid,
    postponed or paused meanwhile, and every reminder of the days before goes out. Writes nothing but
    its own lines."""

    _name = "collections.run.preview"
    _description = "Follow-up Run Preview"

    date = fields.Date(string="Run of", required=True, default=lambda self: fields.Date.context_today(self)
                       + timedelta(days=1))
    # The company is the user's current one (Odoo checks it is one of theirs), never a field a
    # request could set to another company's.
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    line_ids = fields.One2many("collections.run.preview.line", "preview_id", string="Customers", readonly=True)
    customer_count = fields.Integer(string="Customers Contacted", readonly=True)
    email_count = fields.Integer(string="Emails", readonly=True)
    sms_count = fields.Integer(string="SMS", readonly=True)
    letter_count = fields.Integer(string="Letters", readonly=True)
    call_count = fields.Integer(string="Call Tasks", readonly=True)
    hold_count = fields.Integer(string="Credit Holds Set", readonly=True)
    release_count = fields.Integer(string="Credit Holds Released", readonly=True)
    fee_total = fields.Monetary(string="Fees and Interest", readonly=True)
    amount_total = fields.Monetary(string="Amount Asked", readonly=True)
    computed = fields.Boolean(readonly=True)

    @api.depends("date")
    def _compute_display_name(self):
        for preview in self:
            preview.display_name = self.env._("Run of %s", format_date(self.env, preview.date)) if preview.date \
                else self.env._("Run Preview")

    @api.depends_context("company")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id

    @api.constrains("date")
    def _check_date(self):
        today = fields.Date.context_today(self)
        for preview in self:
            if not today <= preview.date <= today + timedelta(days=HORIZON_DAYS):
                raise UserError(self.env._(
                    "The run can be previewed from today to %(days)s days ahead (until %(last)s).",
                    days=HORIZON_DAYS, last=today + timedelta(days=HORIZON_DAYS),
                ))

    def action_preview(self):
        self.ensure_one()
        self._check_date()
        company = self.env.company
        today = fields.Date.context_today(self)
        lines = self._lines(company, today, self.date)
        self.line_ids = [(5, 0, 0)] + [(0, 0, vals) for vals in lines]
        self.write({
            "computed": True,
            "customer_count": sum(1 for vals in lines if vals["status"] == "action"),
            "email_count": sum(1 for vals in lines if vals.get("email")),
            "sms_count": sum(1 for vals in lines if vals.get("sms")),
            "letter_count": sum(1 for vals in lines if vals.get("letter")),
            "call_count": sum(1 for vals in lines if vals.get("call")),
            "hold_count": sum(1 for vals in lines if vals.get("sets_hold")),
            "release_count": sum(1 for vals in lines if vals.get("releases_hold")),
            "fee_total": sum(vals["fee_amount"] for vals in lines),
            "amount_total": sum(vals["amount"] for vals in lines),
        })
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Run Preview"),
        }

    def action_open_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "collections.run.preview.line",
            "view_mode": "list",
            "domain": [("preview_id", "=", self.id)],
            "name": self.env._("Run of %s", fields.Date.to_string(self.date)),
            "context": {"search_default_group_level": 1},
        }

    def action_print(self):
        self.ensure_one()
        return self.env.ref("collections_followup.action_report_run_preview").report_action(self)

    @api.model
    def _run_moment(self, day):
        """When the daily run starts on ``day`` (its scheduled hour; UTC, as Odoo stores it)."""
        cron = self.env.ref("collections_followup.ir_cron_collections_run", raise_if_not_found=False)
        hour = cron.sudo().nextcall.time() if cron else time(0, 0)
        return datetime.combine(day, hour)

    @api.model
    def _lines(self, company, today, day):
        """Values of a line per customer the run of ``day`` acts on (what it would send, charge and set)."""
        Run = self.env["collections.run"].with_company(company)
        Ledger = self.env["collections.ledger"]
        Partner = self.env["res.partner"].with_company(company)
        Why = self.env["collections.why"]
        # The customers the run reads (its candidates), and the pauses read once, as it does.
        candidates = Run._open_partner_ids(company)
        if day == today:  # today's run skips whom it already handled
            candidates -= Run._handled_today(company, today)
        candidates = sorted(candidates)
        ladders = {}
        # sudo: policies and levels are configuration read to decide (as res.partner._collections_decide).
        Policy = self.env["collections.policy"].sudo()
        default_policy = Policy._get_default_policy(company)
        pauses = Ledger._pauses(company)
        moment = self._run_moment(day)
        lines = []
        for chunk in split_every(Run._decision_chunk_size, candidates):
            items = Ledger._open_items(company, chunk, pauses=pauses)
            partners = Partner.browse(chunk)
            # Today's policies and settings, read as the run reads them, then the days up to ``day``.
            settings = partners._collections_settings(company)
            policy_ids = partners._collections_policy_ids(company, settings, default_policy)
            due = []
            for partner_id in chunk:
                _own, _segment, postponed_until, excluded = settings.get(partner_id, (None, None, None, False))
                policy = Policy.browse(policy_ids.get(partner_id, default_policy.id))
                if policy.id not in ladders:
                    ladders[policy.id] = Ladder(policy.level_ids._to_engine())
                previous, decision, sent_before = decide_ahead(
                    ladders[policy.id], items.get(partner_id, ()), today, day, postponed_until, excluded,
                )
                if decision.status == "action":
                    due.append((partner_id, policy, previous, decision, sent_before))
            # What each line reads of its customer, read for the whole chunk at once.
            customers = Partner.browse([row[0] for row in due])
            shared = self._shared_reads(customers, {row[1] for row in due}, moment, Run)
            for customer, (_pid, policy, previous, decision, sent_before) in zip(customers, due, strict=True):
                lines.append(self._line_values(
                    customer, policy, previous, decision, sent_before, day, moment, Why, Run, shared,
                ))
            self.env.invalidate_all()
        if day == today:
            # The run ends with the daily review of the holds; on the days after, nothing it reads has
            # changed (nothing paid meanwhile), so it changes nothing more.
            by_partner = {vals["partner_id"]: vals for vals in lines}
            for partner, change, reason in Partner._collections_hold_changes(company, today):
                vals = by_partner.get(partner.id)
                if vals is None:
                    vals = by_partner[partner.id] = {
                        "partner_id": partner.id, "status": "none", "channels": "", "amount": 0.0,
                        "fee_amount": 0.0, "sets_hold": False, "change": False,
                    }
                    lines.append(vals)
                vals["sets_hold" if change == "set" else "releases_hold"] = True
                vals["hold_reason"] = reason
        return lines

    @api.model
    def _shared_reads(self, customers, policies, moment, Run):
        """What the lines of these customers read, with one query each: their contact histories (as long
        as the longest window of their policies' contact rules) and the blacklisted phone numbers."""
        # The services of the run, in its company.
        shared = Run.env["collections.contact.rules"]._batch_reads(customers, policies, moment)
        # The channels' names as the log shows them (translated).
        labels = dict(self.env["collections.action"]._fields["channel"]._description_selection(self.env))
        return {**shared, "labels": labels}

    @api.model
    def _line_values(self, partner, policy, previous, decision, sent_before, day, moment, Why, Run, shared):
        # The services of the run, in its company.
        Rules, Fees = Run.env["collections.contact.rules"], Run.env["collections.fee"]
        level = self.env["collections.level"].sudo().browse(decision.level_id)
        review = level.manual_review  # the run asks the collector to review, and does nothing else
        channels = [] if review else list(level._channels())
        blocked = Rules._blocked_channels(partner, set(channels), phone_blacklist=shared["blacklist"])
        channels = [name for name in channels if name not in blocked]
        labels = shared["labels"]
        fees, note = [], False
        if {"email", "letter"} & set(channels):
            try:
                fees = Fees._fees_due(partner, policy, level, decision, "scheduler", day)
            except UserError as error:  # e.g. no reference rate in force yet: the run would stop there too
                note = str(error)
        history = shared["histories"].get(partner.id, []) if shared["histories"] is not None else None
        wait = Rules._why_contact_wait(partner, policy, level, now=moment, history=history) if not review else None
        recipients = partner._collections_recipients() if "email" in channels else partner.browse()
        if previous is None or previous.status != "action":
            change = "new"
        elif previous.level_id == decision.level_id:
            change = "again"
        else:
            change = "higher"
        data = Why._data(partner, self.env.company, decision, contact_wait=wait)
        sets_hold = bool(not review and level.credit_hold and not partner.sudo().collections_credit_hold)
        return {
            "partner_id": partner.id,
            "level_id": level.id,
            "status": decision.status,
            "channels": ", ".join(labels[name] for name in channels) if channels else
            labels["review"] if review else "",
            **{name: name in channels for name in ("email", "sms", "letter", "call")},
            "blocked": ", ".join(labels[name] for name in sorted(blocked)),
            "review": review,
            "recipients": ", ".join(recipients.mapped("email")),
            "amount": float(decision.net_to_pay),
            # In company currency (a fee on an invoice in euros is charged in euros, at the day's rate here).
            "fee_amount": float(sum(fee["amount_company"] for fee in fees)),
            "sets_hold": sets_hold,
            "hold_reason": self.env._("follow-up level '%s' reached", level.name) if sets_hold else False,
            "contact_wait": self.env._("%(when)s (%(tz)s)", when=wait["when"], tz=wait["tz"]) if wait else False,
            "change": change,
            "reminders_before": sent_before,
            "why_data": data,
            "note": note,
        }


class CollectionsRunPreviewLine(models.TransientModel):
    _name = "collections.run.preview.line"
    _description = "Follow-up Run Preview: a Customer"
    _order = "amount desc, id"

    preview_id = fields.Many2one("collections.run.preview", required=True, ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="preview_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one(related="partner_id.collections_user_id", string="Collector")
    level_id = fields.Many2one("collections.level", readonly=True)
    status = fields.Selection(STATUSES, readonly=True)
    channels = fields.Char(readonly=True)
    email = fields.Boolean(readonly=True)
    sms = fields.Boolean(string="SMS", readonly=True)
    letter = fields.Boolean(readonly=True)
    call = fields.Boolean(string="Call Task", readonly=True)
    blocked = fields.Char(string="Opted Out", readonly=True, help="Channels of the level the customer opted out of.")
    review = fields.Boolean(string="Review First", readonly=True,
                            help="The level asks a collector to review before anything is sent.")
    recipients = fields.Char(readonly=True)
    amount = fields.Monetary(string="Amount Asked", readonly=True,
                             help="What the reminder asks for: the listed invoices less the unapplied credits.")
    fee_amount = fields.Monetary(string="Fees and Interest", readonly=True)
    sets_hold = fields.Boolean(string="Sets Credit Hold", readonly=True)
    releases_hold = fields.Boolean(string="Releases Credit Hold", readonly=True)
    hold_reason = fields.Char(readonly=True)
    contact_wait = fields.Char(string="Waits Until", readonly=True,
                               help="The contact rules make the run wait until this time (customer's time).")
    change = fields.Selection(
        [("new", "New"), ("again", "Same Level as the Day Before"), ("higher", "Higher than the Day Before")],
        string="Against the Day Before", readonly=True,
    )
    reminders_before = fields.Integer(
        readonly=True,
        help="Reminders the runs between today and this day would send this customer first.",
    )
    why = fields.Char(compute="_compute_why_html", help="The customer's outcome in that run, in one sentence.")
    note = fields.Char(string="Problem", readonly=True)
    why_data = fields.Json(string="Reasons (Data)", readonly=True)
    why_html = fields.Html(string="Reasons", compute="_compute_why_html", sanitize=False)

    @api.depends("why_data", "hold_reason")
    @api.depends_context("lang", "company")
    def _compute_why_html(self):
        """Sentences made when shown (a preview may list every customer of the book: most are never read)."""
        Why = self.env["collections.why"]
        currency = self.env.company.currency_id
        for line in self:
            lines = Why._sentences(line.why_data, currency) if line.why_data else []
            line.why_html = Why._render(lines) if lines else False
            line.why = Why._sentence(line.why_data[0], currency) if line.why_data else line.hold_reason
