from . import controllers
from . import models
from . import report
from . import wizard


def _post_init_create_policies(env):
    """Give every existing company its default follow-up policy."""
    env["res.company"].search([])._collections_ensure_default_policy()
