import binascii
import math
from datetime import date, timedelta

from werkzeug.exceptions import NotFound, TooManyRequests

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import content_disposition, request
from odoo.tools import float_compare

from odoo.addons.account.controllers.portal import PortalAccount

from ..models.collections_guard import server

# How far ahead a customer may promise a payment on its own; beyond that,
# a collector talks to it (a plan is probably what it needs).
PORTAL_PROMISE_MAX_DAYS = 60


class CollectionsPortal(PortalAccount):

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "collections_count" in counters:
            # Overdue invoices and running plans: the entry shows when there is something to see.
            Plan = request.env["collections.payment.plan"]
            plans = Plan.search_count([("state", "in", ("proposed", "active"))]) if Plan.has_access("read") else 0
            values["collections_count"] = plans + self._get_overdue_invoice_count()
        return values

    # ------------------------------------------------------------------
    # Account overview: what is owed, plans, promises
    # ------------------------------------------------------------------

    def _collections_overview_values(self, customer=None, token=None, message=None, error=None):
        """What the account page shows. ``customer``: the account link's (no login), read as superuser
        with every search bound to it; else the logged-in user's company, through its own access rules
        (Odoo's portal rules), bound to it as well. Routes pass the query's message code only (the
        template knows its sentences): no request parameter reaches ``customer``, and ``error`` is
        the server's own sentence."""
        env = request.env(su=True) if customer else request.env
        partner = customer or request.env.user.partner_id.commercial_partner_id
        own = [("partner_id.commercial_partner_id", "=", partner.id)]
        today = fields.Date.context_today(request.env.user)
        # What is open, as the reminders state it (collections.ledger): each open instalment with
        # its own due date, the credits not applied yet, totals per currency; in each company the
        # customer owes something to.
        Ledger = env["collections.ledger"]
        # sudo: the companies the customer's own open items are in (ids only).
        companies = request.env["account.move.line"].sudo()._read_group([
            ("partner_id.commercial_partner_id", "=", partner.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
            ("amount_residual", "!=", 0),
        ], ["company_id"])
        rows = []
        # Each company hierarchy once: the ledger reads a root company with its branches.
        for root in request.env["res.company"].sudo().union(*(company for (company,) in companies)).root_id:
            rows += Ledger._reminder_rows(partner, root)
        debts = [row for row in rows if not row["credit"]]
        credits = [row for row in rows if row["credit"]]
        # The customer's invoices through its own access (Odoo's portal rules on account.move).
        invoices = env["account.move"].search([
            ("id", "in", [row["move"].id for row in debts]), ("move_type", "=", "out_invoice"),
            ("commercial_partner_id", "=", partner.id),
        ], order="invoice_date_due, id")
        overdue = invoices.filtered(lambda move: any(row["move"] == move and row["days_late"] > 0 for row in debts))
        plans = env["collections.payment.plan"].search([*own, ("state", "in", ("proposed", "active"))])
        promises = env["collections.promise"].search([*own, ("state", "=", "open")])
        disputes = env["collections.dispute"].search([*own, ("state", "in", ("open", "review"))])
        planned = plans.filtered(lambda p: p.state == "active").move_ids
        promisable = overdue - planned - promises.move_ids - disputes.move_ids
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "collections",
            "partner": partner,
            "today": today,
            "debts": debts,
            "credits": credits,
            "totals": Ledger._totals(rows),
            "invoices": invoices,
            "overdue": overdue,
            "planned": planned,
            "promised": promises.move_ids,
            "plans": plans,
            "promises": promises,
            "promise_max_date": today + timedelta(days=PORTAL_PROMISE_MAX_DAYS),
            "promisable": promisable,
            # What the promise form proposes: the overdue items of those invoices, in company currency.
            "promisable_amount": sum(row["company_residual"] for row in debts
                                     if row["move"] in promisable and row["days_late"] > 0),
            "disputes": disputes,
            # sudo: the customer's own contacts that receive its reminders (their addresses only).
            "followup_recipients": partner.sudo()._collections_recipients().mapped("email"),
            "disputed": disputes.move_ids,
            "disputable": invoices - disputes.move_ids,
            "dispute_reasons": env["collections.dispute.reason"].search([]),
            # Whether "Pay selected invoices" is offered: a payment provider customers may use, in a company
            # the customer owes something to (sudo: providers are configuration customers cannot read).
            "online_payment": bool(companies) and bool(request.env["payment.provider"].sudo().search_count([
                ("state", "in", ("enabled", "test")), ("is_published", "=", True),
                ("company_id", "in", [company.id for (company,) in companies]),
            ], limit=1)),
            # Where the page's forms post and its statement downloads.
            "base_url_path": f"/collections/account/{token}" if customer else "/my/collections",
            "message": message,
            "error": error,
        })
        return values

    @http.route("/my/collections", type="http", auth="user", website=True)
    def portal_my_collections(self, message=None, **kwargs):
        # Only the message code comes from the query (the template shows its own sentence for each
        # known code); an error shown is one the server set, never the query's text.
        return self._collections_render(self._collections_overview_values(message=message))

    def _collections_render(self, values):
        if values.get("link_expiry"):
            return request.render("collections_followup.collections_account_link_page", values)
        return request.render("collections_followup.portal_my_collections", values)

    @http.route("/my/collections/statement", type="http", auth="user", website=True)
    def portal_collections_statement(self, **kwargs):
        return self._collections_statement(request.env.user.partner_id.commercial_partner_id)

    def _collections_statement(self, customer):
        """The customer's statement of account (PDF), to download."""
        # sudo: the statement of the requester's own account (portal user or account link).
        name, content = customer.sudo()._collections_statement_pdf()
        return request.make_response(content, headers=[
            ("Content-Type", "application/pdf"), ("Content-Length", len(content)),
            ("Content-Disposition", content_disposition(name)),
        ])

    # ------------------------------------------------------------------
    # The account link: the same page without a login (models/res_partner_link.py)
    # ------------------------------------------------------------------

    def _collections_link_customer(self, token):
        """The account link's customer; a 404 for any token that opens nothing (malformed, forged,
        expired, revoked: one answer), a 429 to an address that tried too many of those lately."""
        address = request.httprequest.remote_addr or ""
        Attempt = request.env["collections.link.attempt"].sudo()
        if Attempt._collections_throttled(address):
            raise TooManyRequests()
        customer = request.env["res.partner"].sudo()._collections_from_link(token)
        if not customer:
            Attempt._collections_failed(address)
            raise NotFound()
        return customer

    def _collections_link_values(self, token, message=None, error=None):
        customer = self._collections_link_customer(token)
        values = self._collections_overview_values(customer=customer, token=token, message=message, error=error)
        values.update({
            "company": customer.company_id or request.env.company,
            "link_expiry": date.fromordinal(int(token.split(".")[1])),
        })
        return values

    @http.route("/collections/account/<string:token>", type="http", auth="public", website=True, sitemap=False)
    def collections_account_link(self, token, message=None, **kwargs):
        return self._collections_render(self._collections_link_values(token, message=message))

    @http.route("/collections/account/<string:token>/promise", type="http", auth="public", methods=["POST"],
                website=True, sitemap=False)
    def collections_account_link_promise(self, token, promised_date=None, amount=None, note=None, **kwargs):
        return self._collections_promise(self._collections_link_values(token), promised_date, amount, note)

    @http.route("/collections/account/<string:token>/dispute", type="http", auth="public", methods=["POST"],
                website=True, sitemap=False)
    def collections_account_link_dispute(self, token, invoice_id=None, reason_id=None, description=None, **kwargs):
        return self._collections_dispute(self._collections_link_values(token), invoice_id, reason_id, description)

    @http.route("/collections/account/<string:token>/statement", type="http", auth="public", website=True,
                sitemap=False)
    def collections_account_link_statement(self, token, **kwargs):
        return self._collections_statement(self._collections_link_customer(token))

    @http.route("/my/collections/promise", type="http", auth="user", methods=["POST"], website=True)
    def portal_collections_promise(self, promised_date=None, amount=None, note=None, **kwargs):
        return self._collections_promise(self._collections_overview_values(), promised_date, amount, note)

    def _collections_promise(self, values, promised_date, amount, note):
        """The promise form of the account page (portal or account link): checked, then recorded."""
        invoices = values["promisable"]
        error = None
        try:
            date = fields.Date.to_date(promised_date)
        except ValueError:
            date = None
        try:
            value = float(amount)
        except (TypeError, ValueError):
            value = 0.0
        if not math.isfinite(value):  # "NaN", "inf", "1e309" parse as floats
            value = 0.0
        owed = sum(invoices.mapped("amount_residual_signed"))
        currency = request.env.company.currency_id
        if not invoices:
            error = request.env._("There is no overdue invoice left to promise a payment for.")
        elif not date or date < values["today"] or date > values["promise_max_date"]:
            error = request.env._(
                "Choose a payment date between today and %s; for a later date, please contact us.",
                values["promise_max_date"],
            )
        elif value <= 0 or float_compare(value, owed, precision_rounding=currency.rounding) > 0:
            error = request.env._("Enter an amount between 0 and %s.", currency.format(owed))
        if error:
            values["error"] = error
            return self._collections_render(values)
        partner = values["partner"]
        # Portal customers cannot create records; the checks above are theirs.
        promise = request.env["collections.promise"].sudo().create({
            "partner_id": partner.id,
            "company_id": invoices[0].company_id.id,
            "move_ids": [(6, 0, invoices.filtered(lambda m: m.company_id == invoices[0].company_id).ids)],
            "amount": value,
            "promised_date": date,
            "channel": "portal",
            "user_id": False,
            "note": (note or "").strip()[:2000] or False,
        })
        promise._notify_collector(
            request.env._("%s promised a payment on its account page", partner.display_name),
            request.env._("%(amount)s by %(date)s", amount=currency.format(value), date=date),
        )
        return request.redirect(f"{values['base_url_path']}?message=promise_ok")

    @http.route("/my/collections/dispute", type="http", auth="user", methods=["POST"], website=True)
    def portal_collections_dispute(self, invoice_id=None, reason_id=None, description=None, **kwargs):
        return self._collections_dispute(self._collections_overview_values(), invoice_id, reason_id, description)

    def _collections_dispute(self, values, invoice_id, reason_id, description):
        """The dispute form of the account page (portal or account link): checked, then recorded."""
        try:
            invoice = values["disputable"].filtered(lambda m: m.id == int(invoice_id))
            reason = values["dispute_reasons"].filtered(lambda r: r.id == int(reason_id))
        except (TypeError, ValueError):
            invoice = reason = None
        text = (description or "").strip()[:4000]
        if not invoice or not reason:
            values["error"] = request.env._("Choose one of your open invoices and the reason of the dispute.")
        elif len(text) < 10:
            values["error"] = request.env._("Tell us in a few words what is wrong with the invoice.")
        if values.get("error"):
            return self._collections_render(values)
        # Portal customers cannot create records; the invoice was checked to be theirs above.
        # server(): the dispute's origin is set by the server, here as the portal's.
        server(request.env["collections.dispute"].sudo()).create({
            "partner_id": values["partner"].id,
            "company_id": invoice.company_id.id,
            "move_ids": [(6, 0, invoice.ids)],
            "reason_id": reason.id,
            "description": text,
            "origin": "portal",
            "user_id": False,
        })
        return request.redirect(f"{values['base_url_path']}?message=dispute_ok")

    # ------------------------------------------------------------------
    # One plan: schedule, acceptance, agreement PDF
    # ------------------------------------------------------------------

    def _plan_or_404(self, plan_id, access_token):
        try:
            plan = self._document_check_access("collections.payment.plan", plan_id, access_token=access_token)
        except (AccessError, MissingError):
            return None
        # A token opens the plan it was made for, never a draft.
        return plan if plan.state != "draft" else None

    @http.route("/my/collections/plan/<int:plan_id>", type="http", auth="public", website=True)
    def portal_collections_plan(self, plan_id, access_token=None, report_type=None, download=False, **kwargs):
        plan = self._plan_or_404(plan_id, access_token)
        if plan is None:
            raise request.not_found()
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=plan, report_type=report_type,
                report_ref="collections_followup.action_report_payment_plan", download=download,
            )
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "collections_plan",
            "plan": plan,
            "token": access_token,
            "message": kwargs.get("message"),
        })
        return request.render("collections_followup.portal_collections_plan", values)

    @http.route("/my/collections/plan/<int:plan_id>/accept", type="jsonrpc", auth="public", website=True)
    def portal_collections_plan_accept(self, plan_id, access_token=None, name=None, signature=None):
        access_token = access_token or request.httprequest.args.get("access_token")
        plan = self._plan_or_404(plan_id, access_token)
        if plan is None:
            return {"error": request.env._("This payment plan cannot be found.")}
        try:
            with request.env.cr.savepoint():
                plan._accept_portal(name, signature, request.httprequest.remote_addr, request.env.user)
        except (UserError, ValidationError) as error:
            return {"error": str(error)}
        except (TypeError, binascii.Error):
            return {"error": request.env._("The signature could not be read; please sign again.")}
        return {
            "force_refresh": True,
            "redirect_url": plan.get_portal_url(query_string="&message=accepted"),
        }
