from . import (
    account_move,
    collections_action,
    collections_credit_limit_history,
    collections_demo,
    collections_level,
    collections_policy,
    collections_run,
    res_company,
    res_partner,
    res_partner_credit,
)
