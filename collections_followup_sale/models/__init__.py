from . import res_partner
from . import sale_order
from . import collections_demo
