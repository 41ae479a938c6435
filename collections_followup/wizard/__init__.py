from . import collections_partners_mixin
from . import collections_postpone_wizard
from . import collections_send_mixin
from . import collections_send_wizard
from . import collections_hold_wizard
from . import collections_override_wizard
from . import collections_defer_wizard
from . import account_move_reversal
