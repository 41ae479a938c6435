from . import collections_aging_report
