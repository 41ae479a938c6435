from . import test_followup_run
from . import test_manual_followup
from . import test_access
from . import test_reports
from . import test_tour
from . import test_credit
from . import test_aging_report
