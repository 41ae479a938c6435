from . import collections_send_mixin
from . import collections_send_wizard
from . import collections_postpone_wizard
