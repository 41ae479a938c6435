{
    "name": "Collections Follow-up - Snailmail",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Follow-up letters posted through Odoo's Snailmail instead of printed by the collector",
    "author": "collections_followup developers",
    "website": "https://example.invalid/collections_followup",
    "license": "LGPL-3",
    "depends": ["snailmail", "collections_followup"],
    "data": [
        "views/collections_level_views.xml",
        "views/collections_action_views.xml",
    ],
    "auto_install": True,
}
