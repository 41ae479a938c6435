{
    "name": "Collections Follow-up - Sales",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Credit holds and limits block sales orders; salespeople see them on customers and orders",
    "author": "collections_followup developers",
    "website": "https://example.invalid/collections_followup",
    "license": "LGPL-3",
    "depends": ["sale", "collections_followup"],
    "data": [
        "views/sale_order_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "collections_followup_sale/static/tests/tours/*.js",
        ],
    },
    "auto_install": True,
    "post_init_hook": "_post_init_demo",
}
