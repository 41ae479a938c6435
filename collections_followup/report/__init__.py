from . import collections_aging_report
from . import collections_management_report
from . import collections_letter_report
