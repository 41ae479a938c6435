"""Paying several invoices at once from the account page (portal or account link), with Odoo's payment
providers: one transaction for the open items the customer ticks, reconciled with those invoices by Odoo's
own payment flow (account_payment: the transaction's invoices)."""
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from .portal import CollectionsPortal

# Item ids travel in the transaction route's path ("12-13-14"): a bound on what a request may ask for.
MAX_ITEMS = 200


class CollectionsPortalPayment(CollectionsPortal):

    # ------------------------------------------------------------------
    # What may be paid: the customer's own open invoice items, one currency, one company
    # ------------------------------------------------------------------

    @staticmethod
    def _collections_item_ids(raw):
        """Journal item ids from the request ("12", ["12", "13"] or "12-13"); None when malformed."""
        values = raw if isinstance(raw, (list, tuple)) else [raw]
        ids = []
        for value in values:
            for part in str(value or "").replace(",", "-").split("-"):
                if not part:
                    continue
                if not part.isdigit() or len(ids) >= MAX_ITEMS:
                    return None
                ids.append(int(part))
        return ids

    def _collections_payment(self, values, item_ids):
        """The payment of the chosen items: {"rows", "currency", "company", "amount", "moves"} or
        {"error": sentence}. Only the invoice items the page lists for this customer can be chosen; an
        instalment brings the open instalments of its invoice due before it (Odoo applies a payment to
        the oldest first): the summary shows what is paid."""
        payable = [row for row in values["debts"] if row["url"]]
        chosen = {row["line"].id for row in payable} & set(item_ids or ())
        if not item_ids or len(chosen) != len(set(item_ids)):
            return {"error": request.env._("Choose the invoices to pay among your open invoices.")}
        last_due = {}
        for row in payable:
            if row["line"].id in chosen:
                last_due[row["move"]] = max(last_due.get(row["move"], row["due"]), row["due"])
        rows = [row for row in payable if row["move"] in last_due and row["due"] <= last_due[row["move"]]]
        currencies = {row["currency"] for row in rows}
        companies = {row["move"].company_id for row in rows}
        if len(currencies) > 1:
            return {"error": request.env._(
                "Pay the invoices of one currency at a time: choose only those in %s.",
                request.env._(" or only those in ").join(sorted(currency.name for currency in currencies)),
            )}
        if len(companies) > 1:
            return {"error": request.env._(
                "These invoices are from different companies of ours: pay those of one company at a time."
            )}
        currency = rows[0]["currency"]
        # An invoice whose early-payment discount is still granted today is paid at its discounted amount, as on
        # Odoo's own invoice page; the transaction's payment writes the discounts off (payment.transaction).
        rows = [{**row, "to_pay": self._collections_to_pay(row)} for row in rows]
        return {
            "rows": rows,
            "currency": currency,
            "company": rows[0]["move"].company_id,
            "amount": currency.round(sum(row["to_pay"] for row in rows)),
            "discount": currency.round(sum(row["residual"] - row["to_pay"] for row in rows)),
            "moves": rows[0]["move"].browse([]).union(*(row["move"] for row in rows)),
        }

    @staticmethod
    def _collections_to_pay(row):
        """What paying this row takes today: the discounted amount while the invoice's early-payment discount is
        granted and nothing of it is paid yet, else what is due."""
        discount = row.get("discount")
        if discount and row["currency"].compare_amounts(row["residual"], row["total"]) == 0 \
                and row["currency"].compare_amounts(discount["amount"], row["residual"]) < 0:
            return discount["amount"]
        return row["residual"]

    def _collections_pay_page(self, values, item_ids):
        """The payment page of the chosen items, or the account page with the reason it cannot be."""
        payment = self._collections_payment(values, item_ids)
        if payment.get("error"):
            values["error"] = payment["error"]
            return self._collections_render(values)
        moves = payment["moves"]
        # sudo: the batch reference's sequence is the company's (Odoo's overdue payment page does the same).
        reference = (moves.payment_reference or moves.name) if len(moves) == 1 else \
            payment["company"].sudo().get_next_batch_payment_communication()
        items = "-".join(str(row["line"].id) for row in payment["rows"])
        base = values["base_url_path"]
        values.update(self._get_common_page_view_values(
            invoices_data={
                "partner": values["partner"],
                "company": payment["company"],
                "total_amount": payment["amount"],
                "currency": payment["currency"],
                "amount_residual": payment["amount"],
                "payment_reference": reference,
                "landing_route": f"{base}?message=payment_ok",
                "transaction_route": f"{base}/pay/{items}/transaction",
            },
        ))
        values.update({
            "page_name": "collections_pay",
            "pay_rows": payment["rows"],
            "amount": payment["amount"],
            "discount": payment["discount"],
            "currency": payment["currency"],
            "payment_reference": reference,
        })
        return request.render("collections_followup.portal_collections_pay", values)

    def _collections_pay_transaction(self, values, items, payment_reference=None, **kwargs):
        """The transaction of the chosen items, checked again here (the page may be old, the request made by
        hand): the amount is the server's, the invoices the customer's, the landing page its account's."""
        self._validate_transaction_kwargs(kwargs, additional_allowed_keys=("access_token", "reference_prefix"))
        payment = self._collections_payment(values, self._collections_item_ids(items))
        if payment.get("error"):
            raise ValidationError(payment["error"])
        currency = payment["currency"]
        try:
            asked = float(kwargs.get("amount"))
        except (TypeError, ValueError):
            asked = None
        if asked is None or currency.compare_amounts(asked, payment["amount"]) != 0:
            raise ValidationError(request.env._(
                "The amount due has changed since the page was opened: reload the page to pay %s.",
                currency.format(payment["amount"]),
            ))
        kwargs.pop("access_token", None)
        kwargs.pop("reference_prefix", None)
        kwargs.update(amount=payment["amount"], landing_route=f"{values['base_url_path']}?message=payment_ok")
        logged_in = not request.env.user._is_public()
        # The payer: the logged-in user (its saved payment methods), else the account link's customer.
        payer = request.env.user.partner_id if logged_in else values["partner"]
        return self._process_transaction(
            payer.id, currency.id, payment["moves"].ids, (payment_reference or "")[:64] or False, **kwargs,
        )

    # ------------------------------------------------------------------
    # Routes: the portal's (logged in) and the account link's (no login)
    # ------------------------------------------------------------------

    @http.route("/my/collections/pay", type="http", auth="user", website=True)
    def portal_collections_pay(self, **kwargs):
        item_ids = self._collections_item_ids(request.httprequest.args.getlist("item"))
        return self._collections_pay_page(self._collections_overview_values(), item_ids)

    @http.route("/my/collections/pay/<string:items>/transaction", type="jsonrpc", auth="user")
    def portal_collections_pay_transaction(self, items, payment_reference=None, **kwargs):
        return self._collections_pay_transaction(
            self._collections_overview_values(), items, payment_reference=payment_reference, **kwargs,
        )

    @http.route("/collections/account/<string:token>/pay", type="http", auth="public", website=True,
                sitemap=False)
    def collections_account_link_pay(self, token, **kwargs):
        item_ids = self._collections_item_ids(request.httprequest.args.getlist("item"))
        return self._collections_pay_page(self._collections_link_values(token), item_ids)

    @http.route("/collections/account/<string:token>/pay/<string:items>/transaction", type="jsonrpc",
                auth="public")
    def collections_account_link_pay_transaction(self, token, items, payment_reference=None, **kwargs):
        try:
            values = self._collections_link_values(token)
        except NotFound:
            raise ValidationError(request.env._("This account link no longer opens your account.")) from None
        return self._collections_pay_transaction(values, items, payment_reference=payment_reference, **kwargs)
