from . import test_snailmail
