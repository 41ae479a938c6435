from . import controllers
from . import models
from . import report
from . import wizard


import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def _uninstall_drop_index(env):
    """The index the addon made on Odoo's invoices (models/account_move.py) goes with it."""
    from .models.account_move import PAYMENT_REFERENCE_INDEX

    env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(PAYMENT_REFERENCE_INDEX)))


def _post_init_create_policies(env):
    """Give every existing company its default follow-up policy; with demo data, the demo's customers.

    The demo's generator (demo/populate.py) is not a model: a production database's registry does not
    hold it. Like Odoo's own demo data, a failure leaves the addon installed without the demo."""
    env["res.company"].search([])._collections_ensure_default_policy()
    if env["ir.module.module"].search([("name", "=", "collections_followup")]).demo:
        from .demo.populate import populate

        try:
            with env.cr.savepoint():
                populate(env)
        except Exception:
            _logger.warning("collections_followup: the demo customers could not be created", exc_info=True)
