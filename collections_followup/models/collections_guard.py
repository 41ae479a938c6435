"""Fields that only the addon's own server code sets.

``readonly=True`` is a hint for the web client: RPC, import, copy and the
portal all end in ``create()`` or ``write()``, so the rule is checked there.
The server's own code paths mark their environment with :func:`server` after
their own checks. The mark is a Python object: no client can send it (RPC
carries JSON or XML-RPC values only), so a context key sent over RPC, however
named, never counts; ``sudo()`` does not count either.
"""

from odoo import api, models
from odoo.exceptions import AccessError

_KEY = "collections_server"


class _ServerMark:
    __slots__ = ()

    def __repr__(self):
        return "<collections server code>"


_MARK = _ServerMark()
_SCHEDULER_KEY = "collections_scheduler"
_SCHEDULER = _ServerMark()


def server(records):
    """``records`` in an environment that may set protected fields (server code only)."""
    return records.with_context(**{_KEY: _MARK})


def is_server(env):
    return env.context.get(_KEY) is _MARK


def scheduler(records):
    """``records`` as the scheduled jobs handle them: what they log is marked as the scheduler's."""
    return records.with_context(**{_SCHEDULER_KEY: _SCHEDULER})


def is_scheduler(env):
    return env.context.get(_SCHEDULER_KEY) is _SCHEDULER


def code_defaults(records, names):
    """{field name: the value the model's own code gives it by default} (False without a default).

    Odoo fills a field left out of create() values from the ``default_*`` context keys and the
    user's and company's ``ir.default`` before the field's own default: roads any user opens
    (ir.default.set is callable over RPC). A protected field takes no value from them."""
    values = {}
    for name in names:
        field = records._fields[name]
        value = field.default(records) if field.default else False
        values[name] = field.convert_to_write(field.convert_to_record(
            field.convert_to_cache(value, records), records), records)
    return values


def protected_fields(model):
    """The fields of ``model`` only the addon's server code sets, whichever model declares them."""
    return model._collections_protected_fields() if hasattr(model, "_collections_protected_fields") else frozenset()


def fill_protected(records, vals_list, protected):
    """Give each protected field missing from ``vals_list`` its code default, in place, where a default
    road (``default_*`` context, user or company ir.default) would give it another value: the stored
    record then holds what the values (checked) or the code say, never what a default road says.
    Server code too: a user's ir.default must not reach what the server writes for that user."""
    missing = {name for vals in vals_list for name in protected if name not in vals}
    if not missing:
        return
    # What Odoo would fill them with (default_get: context, ir.default, then the field's own default); some
    # models' default_get adds other fields (a journal item its account): only the protected ones are looked at.
    roads = {name: value for name, value in records.default_get(sorted(missing)).items() if name in missing}
    if not roads:
        return
    code = code_defaults(records, roads)
    forced = {name: code[name] for name, value in roads.items() if value != code[name]}
    for vals in vals_list:
        vals.update({name: value for name, value in forced.items() if name not in vals})


def check_protected(records, vals_list, protected, create=False):
    """Refuse ``vals_list`` (and on create, ``default_*`` context keys) that set a protected field.
    On create, the protected fields left out get their code default (fill_protected)."""
    if not protected:
        return
    if is_server(records.env):
        if create:
            fill_protected(records, vals_list, protected)
        return
    touched = set()
    for vals in vals_list:
        touched.update(protected.intersection(vals))
    if create:
        touched.update(name for name in protected if f"default_{name}" in records.env.context)
        fill_protected(records, vals_list, protected)
    if touched:
        labels = sorted(records._fields[name]._description_string(records.env) for name in touched)
        raise AccessError(records.env._(
            "%(fields)s of %(model)s are set by Collections itself (from the ledger, a manager's approval "
            "or the daily run) and cannot be written directly. Use the corresponding button.",
            fields=", ".join(labels), model=records._description,
        ))


class CollectionsGuardMixin(models.AbstractModel):
    """Our own models: every stored field declared ``readonly`` and not computed is
    written by the server only, through every door (create, write, copy, import)."""

    _name = "collections.guard.mixin"
    _description = "Collections: fields set by the server only"

    # readonly fields that a model's own create() fills and checks itself (e.g. a sequence's reference).
    _collections_unprotected = ()

    @api.model
    def _collections_protected_fields(self):
        return {
            name for name, field in self._fields.items()
            if field.readonly and field.store and not field.compute and not field.related
            and name not in models.MAGIC_COLUMNS and name not in self._collections_unprotected
        }

    @api.model_create_multi
    def create(self, vals_list):
        check_protected(self, vals_list, self._collections_protected_fields(), create=True)
        return super().create(vals_list)

    def write(self, vals):
        # What create() fills itself (a sequence's reference) is not written afterwards either.
        check_protected(self, [vals], self._collections_protected_fields() | set(self._collections_unprotected))
        return super().write(vals)

    def copy_data(self, default=None):
        # A copy starts its server-set fields afresh (state, approvals, amounts), unless server code copies.
        protected = set() if is_server(self.env) else self._collections_protected_fields()
        check_protected(self, [default or {}], protected)
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            for name in protected.intersection(vals):
                del vals[name]
        return vals_list
