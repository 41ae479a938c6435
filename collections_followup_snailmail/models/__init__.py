from . import collections_action
from . import collections_level
from . import collections_send
