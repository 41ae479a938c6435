"""19.0.1.1.0: the reminder templates' placeholders become those Odoo renders without its QWeb engine, and the
reminders no longer say the invoices are attached when the level attaches none.

19.0.1.0.0 shipped the reminder and statement templates with ``object.commercial_partner_id.name or ''`` and
``object.collections_company_id.name or ''`` in their bodies and ``... or user.email_formatted`` as their sender:
expressions Odoo compiles with QWeb for each customer, and which only template editors may use. The shipped
placeholders are replaced, in every language, by the plain field expressions res.partner allows
(``mail_allowed_qweb_expressions``): the same text, rendered without QWeb.

Its first, second and final reminders also said "The invoices are attached to this email" in their own text,
even on a level whose *Attach Invoices* is off. The invoice table says now what the level attaches; the sentence
is taken out of the templates' text (English and French), wherever it is still found.

The templates are ``noupdate``: anything else changed by hand is kept, and a template without the shipped text
is left alone. Idempotent."""

TEMPLATES = [
    "mail_template_followup_courtesy", "mail_template_followup_first", "mail_template_followup_second",
    "mail_template_followup_final", "mail_template_statement",
]
PLACEHOLDERS = [
    ("""<t t-out="object.commercial_partner_id.name or ''">Azure Interior</t>""",
     """<t t-out="object.commercial_partner_id.name"/>"""),
    ("""<t t-out="object.collections_company_id.name or ''">YourCompany</t>""",
     """<t t-out="object.collections_company_id.name"/>"""),
]

# The sentence, as shipped in English and French: (before, after), in this order.
SENTENCES = [
    ("The invoices are attached to this email, and you can view and pay each of them online with the links above.",
     "You can view and pay each invoice online with the links above."),
    (" The invoices are attached to this email.", ""),
    ("Les factures sont jointes à cet e-mail, et vous pouvez consulter et payer chacune d'elles en ligne grâce aux "
     "liens ci-dessus.", "Vous pouvez consulter et payer chaque facture en ligne grâce aux liens ci-dessus."),
    (" Les factures sont jointes à cet e-mail.", ""),
]

EMAIL_FROM = ("{{ object.collections_company_id.email_formatted or user.email_formatted }}",
              "{{ object.collections_company_id.email_formatted }}")


def migrate(cr, version):
    if not version:
        return
    # Without a company address, the email is from its author (Odoo's default), as the user's address was.
    cr.execute(
        """
        UPDATE mail_template template
           SET email_from = %(new)s
          FROM ir_model_data data
         WHERE data.module = 'collections_followup' AND data.model = 'mail.template'
           AND data.name = ANY(%(names)s) AND data.res_id = template.id AND template.email_from = %(old)s
        """,
        {"old": EMAIL_FROM[0], "new": EMAIL_FROM[1], "names": TEMPLATES},
    )
    for old, new in PLACEHOLDERS + SENTENCES:
        cr.execute(
            """
            UPDATE mail_template template
               SET body_html = (SELECT jsonb_object_agg(lang.key, replace(lang.value, %(old)s, %(new)s))
                                  FROM jsonb_each_text(template.body_html) lang)
              FROM ir_model_data data
             WHERE data.module = 'collections_followup' AND data.model = 'mail.template'
               AND data.name = ANY(%(names)s) AND data.res_id = template.id
               AND EXISTS (SELECT 1 FROM jsonb_each_text(template.body_html) lang WHERE strpos(lang.value, %(old)s) > 0)
            """,
            {"old": old, "new": new, "names": TEMPLATES},
        )
