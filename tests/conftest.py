"""Import ``collections_followup.engine`` without Odoo.

The addon's ``__init__`` imports Odoo models; the engine does not need them.
Registering the addon folder as a bare package lets Python import
``collections_followup.engine`` alone, exactly as the addon does.
"""
import sys
import types
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "collections_followup"

if "collections_followup" not in sys.modules:
    package = types.ModuleType("collections_followup")
    package.__path__ = [str(ADDON)]
    sys.modules["collections_followup"] = package
