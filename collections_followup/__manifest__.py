{
    "name": "Collections Follow-up",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Automatic multi-level payment follow-ups, collector worklist and a full interaction log",
    "description": """
Runs accounts-receivable collections inside Odoo: follow-up policies with
levels, a daily scheduler that sends one reminder per customer with the
overdue invoices attached, letters and statements, call tasks for collectors,
manual review and sending, and a record of every interaction.
""",
    "author": "collections_followup developers",
    "website": "https://example.invalid/collections_followup",
    "license": "LGPL-3",
    "depends": ["account", "mail", "portal"],
    "external_dependencies": {"python": ["dateutil"]},
    "data": [
        "security/collections_security.xml",
        "security/ir.model.access.csv",
        "data/mail_template_data.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "report/collections_report_templates.xml",
        "report/collections_reports.xml",
        "views/collections_policy_views.xml",
        "views/collections_action_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "wizard/collections_send_wizard_views.xml",
        "wizard/collections_postpone_wizard_views.xml",
        "views/collections_menus.xml",
    ],
    "demo": [
        "demo/collections_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "collections_followup/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "_post_init_create_policies",
    "installable": True,
    "application": False,
}
