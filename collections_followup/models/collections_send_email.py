from markupsafe import Markup

from odoo import models
from odoo.tools import SQL, split_every

from odoo.addons.base.models.ir_actions_report import _wkhtml

from .res_partner_mail import Reminder


class CollectionsSend(models.AbstractModel):
    """The sending service's emails (collections.send): rendered for a batch of customers, addressed, with
    the invoices' PDFs, posted on the customer's chatter and queued."""

    _inherit = "collections.send"

    def _render_email(self, partner, level, move_ids, listed_items=None, fees=()):
        """(subject, body) of the level's template for this customer, in its language.

        ``listed_items``: the decision's (move id, days late) of each listed item (instalments of
        an invoice one by one); without it, the table lists what is due by the level's window.
        ``fees``: the late fees the reminder announces ((invoice, amount, days late), ...)."""
        reminder = Reminder(level.id, tuple(move_ids), tuple(listed_items) if listed_items else None, tuple(fees))
        return self._render_emails(level.mail_template_id, {partner: reminder})[partner.id]

    def _render_emails(self, template, reminders):
        """{partner id: (subject, body)} of ``template`` for many customers at once, each in its language:
        ``reminders`` {partner: Reminder}. The template is rendered once per language for all of them, and
        their invoice tables (res.partner.collections_mail_table) are read together."""
        ids = [partner.id for partner in reminders]
        template = template.sudo().with_context(
            collections_reminders=tuple((partner.id, reminder) for partner, reminder in reminders.items()))
        subjects = template._render_field("subject", ids, compute_lang=True)
        bodies = template._render_field("body_html", ids, compute_lang=True)
        return {partner_id: (subjects[partner_id], bodies[partner_id]) for partner_id in ids}

    def _invoice_documents(self, move_ids):
        """Make the PDF of the invoices among ``move_ids`` that have none yet (made by import or API) as
        Odoo's invoice sending makes it, and keep it as the invoice's PDF: an invoice is rendered once in
        its life, not again at the next level. Returns the invoices among ``move_ids``."""
        moves = self.env["account.move"].sudo().browse(sorted(move_ids)).filtered(lambda m: m.is_invoice())
        missing = moves.filtered(lambda move: not move.invoice_pdf_report_id)
        if not missing:
            return moves
        # sudo: the invoices' documents, made as Odoo's Send & Print makes them (account.move.send), as many per
        # wkhtmltopdf call as it makes (account.pdf_generation_batch). Only Odoo's patched wkhtmltopdf renders several
        # documents in one call; with another build (Debian's), each invoice is rendered on its own.
        Send = self.env["account.move.send"].sudo()
        size = int(self.env["ir.config_parameter"].sudo().get_param("account.pdf_generation_batch", "80") or 80)
        if "(with patched qt)" not in (_wkhtml().version or ""):
            size = 1
        for company in missing.company_id:
            for group in split_every(size, missing.filtered(lambda m, c=company: m.company_id == c)):
                documents = {move: {"pdf_report": Send._get_default_pdf_report_id(move)} for move in group}
                Send.with_company(company)._prepare_invoice_pdf_report(documents)
                Send._link_invoice_documents(documents)
        return moves

    def _invoice_attachments(self, move_ids):
        """[(file name, PDF bytes)] of the invoices: each invoice's own PDF as Odoo keeps it (made now when
        it has none yet, see _invoice_documents)."""
        return [(move.invoice_pdf_report_id.name, move.invoice_pdf_report_id.raw)
                for move in self._invoice_documents(move_ids) if move.invoice_pdf_report_id]

    def _send_email(self, partner, policy, level, decision, origin, today, email=None, fees=(), author=None,
                    post=None, posted=None, entries=None):
        """The reminder email: ``email`` as rendered for the batch or edited by a collector, else rendered now
        (announcing ``fees``); from ``author`` (res.users, the customer's collector) and with the ``post`` values
        (_post_values) when the batch read them. ``posted``: the message the batch already posted for it
        (_post_batch): only logged. ``entries``: the batch's log entries to write, where its own is added (_log)."""
        move_ids = decision.listed_move_ids
        fail = self._failure_logger(partner, policy, level, "email", origin, today, decision)
        if not level.mail_template_id:
            return fail(self.env._("Level '%s' has no email template.", level.name))
        recipients = partner._collections_recipients()
        if not recipients:
            return fail(self._no_recipient_reason(partner))
        message = posted
        if not message:
            if email:
                subject, body = email["subject"], email["body"]
            else:
                subject, body = self._render_email(partner, level, move_ids, decision.listed_items, fees)
            args = self._email_args(partner, level, move_ids, subject, body,
                                    author or self._collector(partner, policy), post)
            options = args.pop("options")
            message = self._post_email(**args, **options)
        return self._log(
            partner, policy, level, "email", origin, today, move_ids, decision,
            message_id=message.id,
            recipients=", ".join(recipients.mapped("email_formatted")),
            entries=entries,
        )

    def _email_args(self, partner, level, move_ids, subject, body, author, post=None):
        """The arguments of _post_email (and of _post_emails, one item) for a reminder of ``level`` listing
        ``move_ids``, from ``author`` (res.users), with the ``post`` values the batch read (_post_values)."""
        attachments = self._invoice_attachments(move_ids) if level.attach_invoices else []
        if level.attach_statement:
            attachments.append(partner._collections_statement_pdf())
        # The layout's header reads "Your <model description>": "Your account", not "Your Contact".
        return {"record": partner, "subject": subject, "body": body, "recipients": partner._collections_recipients(),
                "author": author.partner_id, "attachments": attachments,
                "options": {"model_description": self.env._("account"), **(post or {})}}

    def _post_batch(self, jobs, prepared):
        """Post at once the emails of a batch's customers prepared to get one (_prepare_batch): each Sending's
        ``posted``, which its execution logs (_send_email) or withdraws (_withdraw)."""
        posts = []
        attach = [decision.listed_move_ids for partner, _policy, level, decision in jobs
                  if partner.id in prepared and level.attach_invoices]
        # The invoices and their PDFs read for all the batch's reminders at once, not for each
        self._invoice_documents(set().union(*attach)).invoice_pdf_report_id.mapped("raw")
        for partner, _policy, level, decision in jobs:
            sending = prepared.get(partner.id)
            if sending and sending.email and self._will_email(partner, level, sending):
                posts.append((sending, self._email_args(
                    partner.sudo(), level.sudo(), decision.listed_move_ids, sending.email["subject"],
                    sending.email["body"], sending.collector, sending.post)))
        messages = self._post_emails([args for _sending, args in posts])
        for (sending, _args), message in zip(posts, messages, strict=True):
            sending.posted = message

    def _post_email(self, record, subject, body, recipients, author, attachments=(), **options):
        """Post an email to the customer's ``recipients`` on ``record``'s chatter (the customer, a plan): queued
        (Odoo's mail queue sends it), in the light layout, from ``author`` (the collector), with ``attachments``
        [(name, bytes)]. Every email of the follow-ups goes out this way, but the run's: it posts a batch's emails
        together (_post_batch), making the same messages and emails (collections_send_post.py)."""
        message = record.with_context(mail_notify_force_send=False, mail_post_autofollow=False).message_post(
            body=body,
            subject=subject,
            partner_ids=recipients.ids,
            author_id=author.id,
            email_from=self._email_from(author),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachments=list(attachments),
            email_layout_xmlid="mail.mail_notification_light",
            **options,
        )
        self._keep_links_out_of_chatter(message)
        return message

    def _keep_links_out_of_chatter(self, messages):
        """The chatter's copy of these emails without the customer's keys: the account link's token and a document's
        access token (a plan's "Review and accept"). The queued email (already made from the message) carries them
        to the customer; every employee who reads the chatter would otherwise hold a key to its account or could
        accept its plan. The account link's button stays, pointing nowhere, with a title saying so; a document's
        link stays without its token (it then opens for who may read the document). Plain SQL on messages just
        posted, before the log seals them (nothing else reads them meanwhile)."""
        if not messages:
            return
        messages.flush_recordset(["body"])
        self.env.execute_query(SQL(
            """
            UPDATE mail_message
               SET body = regexp_replace(regexp_replace(body, %(link)s, %(kept)s, 'g'), %(token)s, 'access_token=', 'g')
             WHERE id = ANY(%(ids)s) AND (body LIKE %(like)s OR body LIKE %(like_token)s)
            """,
            link=r'href="[^"]*/collections/account/[^"]*"',
            kept=str(Markup('href="#" title="%s"') % self.env._("The account link went to the customer only")),
            token=r"access_token=[A-Za-z0-9-]+",
            ids=messages.ids, like="%/collections/account/%", like_token="%access_token=%",
        ))
        messages.invalidate_recordset(["body"])

    def _no_recipient_reason(self, partner):
        commercial = partner.commercial_partner_id
        if not commercial.active:
            return self.env._(
                "The customer is archived: Odoo sends nothing to archived contacts. Restore it (its debt "
                "is still followed up) or exclude it from follow-up."
            )
        if not commercial.email and not commercial.child_ids.filtered(
                lambda c: c.email and (c.type == "invoice" or c.collections_followup_role == "to")):
            return self.env._("The customer has no email address.")
        return self.env._(
            "The customer's email address bounced or opted out of emails: check it with the customer."
        )

    def _post_values(self, sendings):
        """Fill each Sending's ``post`` with the values message_post works out for an email on its own, one record
        at a time (about 3 ms and 3 queries a customer): its alias domain, company and Reply-To, from Odoo's own
        batch methods for all the batch's customers at once (what the mass-mail composer does). ``sendings``
        {partner: Sending}, each with its collector."""
        if not sendings:
            return
        partners = self.env["res.partner"].sudo().union(*sendings)
        authors = {partner.id: sending.collector.partner_id for partner, sending in sendings.items()}
        domains = partners._mail_get_alias_domains(default_company=self.env.company)
        companies = partners._mail_get_companies(default=self.env.company)
        reply_to = partners._notify_get_reply_to_batch(
            defaults={partner_id: self._email_from(author) for partner_id, author in authors.items()},
            author_ids={partner_id: author.id for partner_id, author in authors.items()},
        )
        for partner, sending in sendings.items():
            sending.post = {"record_alias_domain_id": domains[partner.id].id,
                            "record_company_id": companies[partner.id].id, "reply_to": reply_to[partner.id]}

    def _email_from(self, author):
        """The From of an email written by ``author`` (res.partner): its address, else the company's."""
        return author.email_formatted or self.env.company.email_formatted
