from . import collections_postpone_wizard, collections_send_mixin, collections_send_wizard
from . import collections_hold_wizard
from . import collections_override_wizard
