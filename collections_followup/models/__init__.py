from . import collections_policy
from . import collections_level
from . import collections_action
from . import res_company
from . import res_partner
from . import account_move
from . import collections_run
from . import collections_demo
