from . import test_sale_credit
from . import test_sale_controls
