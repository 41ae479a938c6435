import io
from datetime import datetime, time, timedelta

import xlsxwriter
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

# The description of a statement attached to an email being written (_collections_statement_draft).
STATEMENT_DRAFT = "collections_followup: statement of an email not sent yet"


class ResPartner(models.Model):
    """The customer's documents: the follow-up letter's data, the statement of account (PDF, spreadsheet,
    email, print)."""

    _inherit = "res.partner"

    def _collections_table_lines(self, level=None, move_ids=None, listed_items=None):
        """The rows of a reminder's or a letter's table (collections.ledger): the debts it is about
        (``move_ids`` and, of those, the ``listed_items`` (move id, days late) of the decision, else what
        ``level``'s window lists; no ``move_ids``: all), then the unapplied credits."""
        self.ensure_one()
        Ledger = self.env["collections.ledger"]
        which = Ledger._lines_filter(level, listed_items) if move_ids is not None else {}
        return Ledger._reminder_rows(self, self.env.company, move_ids=move_ids, **which)

    def _collections_letter_data(self, level=None, move_ids=None, listed_items=None, fees=()):
        """Values of the follow-up letter (report.collections_followup.report_followup_letter): the level
        (default: the customer's next, else current one), the debts and credits, totals per currency, the
        fees it announces [(invoice, amount, days late, currency id)], the date."""
        self.ensure_one()
        lines = self._collections_table_lines(level, move_ids, listed_items)
        return {
            # In this environment (the customer's language when the letter is printed).
            "level": level.with_env(self.env) if level else self.collections_next_level_id or self.collections_level_id,
            "lines": lines,
            "totals": self.env["collections.ledger"]._totals(lines),
            "fees": self.env["collections.fee"]._announced(fees),
            "today": fields.Date.context_today(self),
        }

    def _collections_statement_data(self, company=None, today=None):
        """The statement of account (collections.ledger._statement): open items per document
        currency with their aging, then the last 90 days of the account's activity."""
        self.ensure_one()
        company = company or self.env.company
        today = today or fields.Date.context_today(self)
        data = self.env["collections.ledger"]._statement(
            self.commercial_partner_id, company, today, today - relativedelta(days=90))
        return {"company": company, "today": today, **data}

    def action_collections_statement_xlsx(self):
        """The statement as a spreadsheet: open items with aging, then the account's activity."""
        attachment = self._collections_statement_xlsx_attachment()
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "new"}

    def _collections_check_receivables_access(self):
        """Refuse unless the user may read these customers' receivables: a billing or accounting user, or a
        collector, who may read the customers (their own company's). Documents built from the ledger with
        sudo (statements, letters) call this first; superuser code (the run, the portal's own account) passes."""
        if self.env.su:
            return
        user = self.env.user
        if not any(user.has_group(group) for group in (
                "account.group_account_invoice", "account.group_account_readonly",
                "collections_followup.group_collections_user")):
            raise AccessError(self.env._(
                "Only billing users, accountants and collectors can read a customer's statement or follow-up letters."
            ))
        self.check_access("read")

    def _collections_statement_xlsx_attachment(self, draft=False):
        """The statement spreadsheet, attached to the customer; ``draft``: a pending attachment of the email
        composer instead (``_collections_statement_draft``).

        For the users who may print the PDF statement (billing, collectors): not a salesperson."""
        self.ensure_one()
        self._collections_check_receivables_access()
        data = self.commercial_partner_id._collections_statement_data()
        content = self._collections_statement_xlsx(data)
        name = self.env._("Statement %(customer)s %(date)s.xlsx",
                          customer=self.commercial_partner_id.name, date=fields.Date.to_string(data["today"]))
        values = {"name": name, "raw": content,
                  "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        if draft:
            return self._collections_statement_draft(values)
        # sudo: an attachment of the customer the user exports the statement of.
        return self.env["ir.attachment"].sudo().create({
            **values, "res_model": "res.partner", "res_id": self.commercial_partner_id.id, "collections_private": True,
        })

    def _collections_statement_draft(self, values):
        """An attachment of an email being written (Odoo's composer: the user's own, on no record until the
        email is sent, then moved to the customer's message by Odoo). A discarded email leaves nothing on the
        customer; its drafts are removed the next day (_gc_collections_statement_drafts)."""
        return self.env["ir.attachment"].create({
            **values, "res_model": "mail.compose.message", "res_id": 0, "description": STATEMENT_DRAFT,
        })

    @api.autovacuum
    def _gc_collections_statement_drafts(self):
        """The statements of emails discarded before sending, a day later (they are on no record)."""
        # sudo: drafts of every user; only those this addon made (their description) and still on no record.
        self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "mail.compose.message"), ("res_id", "=", 0), ("description", "=", STATEMENT_DRAFT),
            ("create_date", "<", self.env.cr.now() - timedelta(days=1)),  # the clock create_date is set by
        ]).unlink()

    def _collections_statement_xlsx(self, data):
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        bold = book.add_format({"bold": True})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        money = book.add_format({"num_format": "#,##0.00"})

        def write_date(sheet, row, column, value):
            if value:
                sheet.write_datetime(row, column, datetime.combine(value, time.min), day)

        sheet = book.add_worksheet(self.env._("Open items"))
        headers = [self.env._("Document"), self.env._("Date"), self.env._("Due Date"), self.env._("Days Late"),
                   self.env._("Open Amount"), self.env._("Currency")]
        sheet.write_row(0, 0, headers, bold)
        row = 1
        for section in data["sections"]:
            for line in section["lines"]:
                sheet.write(row, 0, line["name"])
                write_date(sheet, row, 1, line["date"])
                write_date(sheet, row, 2, line["due"])
                sheet.write_number(row, 3, line["days_late"])
                sheet.write_number(row, 4, line["residual"], money)
                sheet.write(row, 5, section["currency"].name)
                row += 1
            sheet.write(row, 3, self.env._("Total Due"), bold)
            sheet.write_number(row, 4, section["total"], money)
            sheet.write(row, 5, section["currency"].name, bold)
            row += 2
        sheet = book.add_worksheet(self.env._("Activity"))
        sheet.write_row(0, 0, [self.env._("Date"), self.env._("Document"), self.env._("Type"),
                               self.env._("Reference"), self.env._("Matched With"), self.env._("Debit"),
                               self.env._("Credit"), self.env._("Balance")], bold)
        row = 1
        for activity in data["activity"]:
            sheet.write(row, 0, self.env._("Balance brought forward (%s)", activity["currency"].name))
            sheet.write_number(row, 7, activity["opening"], money)
            row += 1
            for line in activity["rows"]:
                write_date(sheet, row, 0, line["date"])
                sheet.write_row(row, 1, [line["name"], line["kind"], line["label"], line["matched"]])
                sheet.write_number(row, 5, line["debit"], money)
                sheet.write_number(row, 6, line["credit"], money)
                sheet.write_number(row, 7, line["balance"], money)
                row += 1
            row += 1
        book.close()
        return output.getvalue()

    def _collections_statement_pdf(self):
        """(file name, PDF bytes) of the customer's statement of account in the current company."""
        customer = self.commercial_partner_id
        # sudo: the statement report of a customer the caller already follows up (run, send wizard).
        report = self.env.ref("collections_followup.action_report_collections_statement").sudo()
        content, _kind = report._render_qweb_pdf(report.report_name, customer.ids)
        name = self.env._("Statement %(customer)s %(date)s.pdf", customer=customer.name,
                          date=fields.Date.to_string(fields.Date.context_today(self)))
        return name, content

    def action_collections_email_statement(self):
        """Odoo's email composer with the statement template, the statement attached (PDF and spreadsheet,
        shown before sending), to the customer's follow-up recipients; sending it is logged."""
        self.ensure_one()
        spreadsheet = self._collections_statement_xlsx_attachment(draft=True)  # the same rights as the export
        customer = self.commercial_partner_id
        name, content = self._collections_statement_pdf()
        pdf = self._collections_statement_draft({"name": name, "raw": content, "mimetype": "application/pdf"})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Email Statement"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": customer.ids,
                "default_composition_mode": "comment",
                "default_template_id": self.env.ref("collections_followup.mail_template_statement").id,
                "default_partner_ids": customer._collections_recipients().ids,
                "default_attachment_ids": (pdf | spreadsheet).ids,
                "default_email_layout_xmlid": "mail.mail_notification_light",
            },
        }

    def action_collections_print_statement(self):
        return self.env.ref("collections_followup.action_report_collections_statement").report_action(
            self.commercial_partner_id
        )
