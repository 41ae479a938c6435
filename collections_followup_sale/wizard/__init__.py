from . import collections_override_wizard
