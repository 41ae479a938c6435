import logging

from . import models
from . import wizard

_logger = logging.getLogger(__name__)


def _post_init_demo(env):
    """With demo data, a salesperson and two quotations (demo/populate.py, not a model)."""
    if env["ir.module.module"].search([("name", "=", "collections_followup_sale")]).demo:
        from .demo.populate import populate

        try:
            with env.cr.savepoint():
                populate(env)
        except Exception:
            _logger.warning("collections_followup_sale: the demo quotations could not be created", exc_info=True)
