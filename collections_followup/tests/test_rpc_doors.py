"""Every RPC door of the addons, generated from the registry.

For every model of collections_followup (its own models, and the core models it
extends: its public methods on them plus their protected fields), every method
callable over RPC (Odoo's own test: odoo.service.model.get_public_method) is
called through Odoo's RPC dispatcher as each role, on records that role must
not change. The call must be refused, or change nothing: a fingerprint of every
table of the addon, the protected columns of invoices and customers, and the
counts of messages and activities are compared before and after, inside a
savepoint. A method added tomorrow is in the matrix the day it is added.
"""
import logging
from collections import Counter
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.service.model import call_kw, get_public_method
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import TODAY, CollectionsCommon

_logger = logging.getLogger(__name__)

ADDON = "odoo.addons.collections_followup"
CRUD = ("create", "write", "copy", "unlink", "read", "search_read", "load")
READS = ("read", "search_read")
REFUSALS = (AccessError, MissingError, UserError, ValidationError)
# Extended core models: our public methods and the fields the addon protects on them.
CORE = {
    "account.move": ("collections_level_id", "collections_deferred_until", "collections_fee_source",
                     "collections_override_user_id", "collections_override_amount"),
    "res.partner": ("collections_credit_hold", "collections_hold_origin", "collections_score"),
}
# Credit limits are managers' (and accounting administrators') to change: test_doors tests who may.
# Caches of figures computed from the ledger, rebuilt when a collector opens them (for the caller's own
# company): not what the matrix guards (test_access checks that a salesperson cannot rebuild them).
DERIVED = {"collections.cash.forecast", "collections.forecast.item", "collections.forecast.week"}
# Odoo's messages and documents: the addon only forbids changing those the log points to (evidence); who may
# post or attach otherwise is Odoo's (test_evidence tests the seal through every road as every role).
EVIDENCE = {"mail.message", "ir.attachment"}
CORE_COLUMNS = {
    "account_move": ("collections_deferred_until", "collections_fee_source", "collections_override_user_id",
                     "collections_override_amount"),
    "res_partner": ("collections_credit_hold", "collections_hold_origin", "collections_score", "credit_limit",
                    "collections_user_id", "collections_excluded", "collections_postponed_until"),
}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRpcDoorMatrix(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company()["company"]
        cls.env["collections.policy"].sudo()._get_default_policy(cls.company_b)
        cls.portal = new_test_user(cls.env, login="portal_door", groups="base.group_portal",
                                   partner_id=cls.customer.id)
        cls.collector_b = new_test_user(
            cls.env, login="collector_b_door", groups="collections_followup.group_collections_user",
            company_id=cls.company_b.id, company_ids=[cls.company_b.id],
        )
        # A company's collections as they are after some weeks: log, fees, arrangements, holds, limits,
        # one record at least of every model of the addons.
        invoices = [cls._invoice(cls.customer, amount, late)
                    for amount, late in ((900.0, 70), (400.0, 40), (300.0, 20), (250.0, 100))]
        cls.company.account_use_credit_limit = True
        cls.customer.with_user(cls.manager).write({"credit_limit": 5000.0})
        fee_product = cls.env["product.product"].create({"name": "Late charges", "type": "service"})
        cls.policy.with_user(cls.manager).fee_product_id = fee_product
        cls.level_first.with_user(cls.manager).write({"fee_type": "fixed", "fee_fixed": 10.0})
        cls.env["collections.interest.rate"].with_user(cls.manager).create(
            {"date_from": "2026-01-01", "rate": 4.0, "company_id": cls.company.id})
        cls.env["collections.run"].with_company(cls.company)._run_company(cls.company, TODAY)
        cls.env["collections.kpi.snapshot"]._cron_snapshot()
        cls.env["collections.dashboard"]._cron_weekly_digest()
        cls.env["collections.cash.forecast"].with_user(cls.collector).action_open()
        as_collector = cls.env(user=cls.collector)
        plan = as_collector["collections.payment.plan"].create({
            "partner_id": cls.customer.id, "move_ids": [(6, 0, invoices[2].ids)], "instalment_count": 2,
            "frequency": "monthly", "first_date": TODAY + timedelta(days=10),
        })
        plan.action_compute_schedule()
        agency = cls.env["res.partner"].create({"name": "Door Agency", "collections_is_agency": True})
        as_collector["collections.case"].create({
            "partner_id": cls.customer.id, "move_ids": [(6, 0, invoices[3].ids)], "agency_id": agency.id,
            "commission_rate": 10.0,
        })
        if "sale.order" in cls.env:
            cls.env["sale.order"].sudo().create({"partner_id": cls.customer.id, "order_line": [
                (0, 0, {"product_id": fee_product.id, "product_uom_qty": 1, "price_unit": 50.0})]})
        Wizard = cls.env["collections.hold.wizard"].with_user(cls.manager)
        Wizard.with_context(active_model="res.partner", active_ids=cls.customer.ids).create(
            {"mode": "hold", "reason": "Cheque bounced"}).action_apply()
        as_collector["collections.promise"].create({
            "partner_id": cls.customer.id, "amount": 100.0, "promised_date": TODAY, "channel": "phone",
            "move_ids": [(6, 0, invoices[1].ids)],
        })
        as_collector["collections.settlement"].create({
            "partner_id": cls.customer.id, "move_ids": [(6, 0, invoices[0].ids)], "amount_agreed": 600.0,
            "deadline": TODAY, "reason": "Cash-flow trouble",
        })
        as_collector["collections.dispute"].create({
            "partner_id": cls.customer.id, "move_ids": [(6, 0, invoices[1].ids)], "description": "Wrong price",
            "reason_id": cls.env.ref("collections_followup.dispute_reason_price").id,
        })
        cls.roles = {
            "portal": cls.portal, "salesperson": cls.salesman, "billing": cls.billing,
            "collector": cls.collector, "manager": cls.manager, "other company's collector": cls.collector_b,
        }

    # -- what exists ------------------------------------------------------------

    def _models(self):
        for name, model in self.env.registry.items():
            if model._abstract or name.startswith("report."):
                continue
            own = any(klass.__module__.startswith(ADDON) and "_name" in klass.__dict__
                      and klass.__dict__["_name"] == name for klass in model.__mro__)
            if (own or name in CORE) and name not in EVIDENCE:
                yield name

    def _methods(self, name):
        cls = type(self.env[name])
        ours = set()
        for klass in cls.__mro__:
            if klass.__module__.startswith(ADDON):
                ours.update(attr for attr, value in vars(klass).items() if callable(value) and not attr.startswith("_"))
        methods = set(ours) | (set(CRUD) if name not in CORE else {"write", "create"})
        public = set()
        for method in methods:
            try:
                get_public_method(self.env[name], method)
            except (AccessError, AttributeError):
                continue
            public.add(method)
        return sorted(public)

    def _targets(self, role, name):
        """Records of ``name`` that ``role`` must not change."""
        Model = self.env[name].sudo()
        if name == "res.partner":
            return self.customer
        company_field = "company_id" if "company_id" in Model._fields and Model._fields["company_id"].store else None
        if role == "other company's collector":
            domain = [(company_field, "=", self.company.id)] if company_field else []
        else:
            domain = [(company_field, "in", (self.company.id, False))] if company_field else []
        if name == "account.move":
            domain.append(("move_type", "=", "out_invoice"))
        if Model._transient:
            return self._wizard(role, name)
        return Model.search(domain, limit=1, order="id")

    def _wizard(self, role, name):
        """A wizard opened as ``role`` on the company's customer and invoices (when its ACL lets it)."""
        values = {}
        for field_name, field in self.env[name]._fields.items():
            if field_name == "res_model":  # a wizard about one document (the override): the customer's invoice
                values[field_name] = "account.move"
            elif field_name == "res_id":
                values[field_name] = self._some("account.move").id
            elif field.required and not field.default and field.type in ("char", "text"):
                values[field_name] = "Door test"
            elif field.required and not field.default and field.type == "date":
                values[field_name] = fields.Date.to_string(TODAY)
            elif field.required and not field.default and field.type == "many2one" and not field.compute:
                values[field_name] = self._some(field.comodel_name).id
        invoices = self.env["account.move"].search([("partner_id", "=", self.customer.id)])
        context = {"active_model": "res.partner", "active_ids": self.customer.ids, "active_id": self.customer.id,
                   "default_move_ids": invoices.ids}
        try:
            with mute_logger("odoo.sql_db", "odoo.models"), self.env.cr.savepoint():
                return self.env[name].with_user(self.roles[role]).with_context(**context).create(values).sudo()
        except Exception:  # noqa: BLE001 - a wizard the role may not open is itself a closed door
            return self.env[name]

    def _some(self, model):
        """A record of the company's own for a wizard's required field (its customer, its invoice)."""
        if model == "res.partner":
            return self.customer
        if model == "account.move":
            return self.env["account.move"].search([("partner_id", "=", self.customer.id)], limit=1)
        if model == "collections.level":
            return self.level_final
        return self.env[model].sudo().search(
            [("company_id", "=", self.company.id)] if "company_id" in self.env[model]._fields else [], limit=1)

    # -- what changed ------------------------------------------------------------

    def _fingerprint(self):
        self.env.flush_all()
        parts = []
        for name in self._models():
            Model = self.env[name]
            if Model._transient or name in CORE or name in DERIVED or not Model._auto:
                continue
            parts.append(SQL("(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM %s t)",
                             SQL.identifier(Model._table)))
        for table, columns in CORE_COLUMNS.items():
            row = SQL("ROW(%s)", SQL(", ").join(SQL.identifier(column) for column in columns))
            parts.append(SQL("(SELECT md5(string_agg(%s::text, ',' ORDER BY id)) FROM %s)", row, SQL.identifier(table)))
        parts += [SQL("(SELECT count(*)::text FROM mail_message)"), SQL("(SELECT count(*)::text FROM mail_activity)"),
                  SQL("(SELECT count(*)::text FROM mail_mail)")]
        return self.env.execute_query(SQL("SELECT %s", SQL(", ").join(parts)))[0]

    def _payload(self, name, method, record):
        Model = self.env[name]
        protected = set(CORE.get(name, ())) or (
            Model._collections_protected_fields() if hasattr(Model, "_collections_protected_fields") else set())
        if method == "write":
            values = {}
            for field_name in sorted(protected) or [n for n, f in Model._fields.items()
                                                    if f.store and f.type in ("char", "text") and not f.compute][:1]:
                field = Model._fields[field_name]
                values[field_name] = {"many2one": self.manager.id if field.comodel_name == "res.users" else False,
                                      "boolean": not record[:1].sudo()[field_name], "integer": 99, "float": 1e9,
                                      "monetary": 1e9, "date": "2020-01-01", "datetime": "2020-01-01 00:00:00",
                                      }.get(field.type, "door test")
                if field.type == "selection":
                    values[field_name] = field._description_selection(self.env)[-1][0]
            return [record.ids, values]
        if method == "create":
            base = record[:1].sudo().copy_data()[0] if record and name not in CORE else {"name": "Door test"}
            if name == "account.move":
                base = {"move_type": "out_invoice", "partner_id": self.customer.id}
            payload = self._payload(name, "write", record)[1] if protected else {}
            return [{**base, **payload}]
        if method == "default_get":
            return [list(Model._fields)]
        if method == "load":
            return [["id"], [["__door_test__.record"]]]
        if method == "search_read":
            return [[("id", "in", record.ids)]]
        if getattr(get_public_method(Model, method), "_api_model", False):
            return []  # called on the model, without ids, as RPC calls it
        return [record.ids]

    # -- the matrix ----------------------------------------------------------------

    def _doors(self, role, name, methods):
        """The methods ``role`` must not use on ``name``'s targets: all of them, except where the
        role's job is to change such records (a collector's promises, a manager's policies, an
        employee opening a dispute): there, only the protected fields are out of reach."""
        if role == "other company's collector":
            return methods
        Model = self.env[name].with_user(self.roles[role])
        protected = CORE.get(name) or (
            Model._collections_protected_fields() if hasattr(Model, "_collections_protected_fields") else ())
        if (role in ("collector", "manager") and name in CORE) or Model.has_access("write"):
            return [method for method in methods if method in ("create", "write")] if protected else []
        if Model.has_access("create"):
            return [method for method in methods if method != "copy" and (method != "create" or protected)]
        return methods

    def test_every_rpc_door_as_every_role(self):
        matrix = Counter()
        effects, errors, needs_args = [], [], set()
        for name in sorted(self._models()):
            methods = self._methods(name)
            for role, user in self.roles.items():
                targets = self._targets(role, name)
                if not targets:
                    matrix[name, role, "refused" if self.env[name]._transient else "no record"] += 1
                    continue
                for method in self._doors(role, name, methods):
                    args = self._payload(name, method, targets)
                    before = self._fingerprint()
                    savepoint = self.env.cr.savepoint()
                    outcome = "no effect"
                    try:
                        with mute_logger("odoo.sql_db", "odoo.models", "odoo.addons.mail.models.mail_thread"):
                            result = call_kw(self.env[name].with_user(user), method, args,
                                             {"context": {"collections_server": True}})
                        if method in READS and result and self._read_forbidden(role, name):
                            effects.append(f"{role}: {name}.{method} read {len(result)} record(s)")
                            outcome = "LEAK"
                    except REFUSALS:
                        outcome = "refused"
                    except TypeError as error:
                        outcome = "needs arguments"
                        needs_args.add(f"{name}.{method}: {error}")
                    except Exception as error:  # noqa: BLE001 - any other exception refuses too, but is listed
                        outcome = "refused (error)"
                        errors.append(f"{role}: {name}.{method}: {type(error).__name__}: {str(error)[:120]}")
                    after = self._fingerprint()
                    savepoint.close(rollback=True)
                    self.env.invalidate_all()
                    if after != before and outcome != "refused":
                        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
                        effects.append(f"{role}: {name}.{method} changed parts {changed} ({outcome})")
                        outcome = "EFFECT"
                    matrix[name, role, outcome] += 1
        self._report(matrix, errors, needs_args)
        self.assertFalse(effects, "a role changed what it must not:\n" + "\n".join(effects))
        self.assertGreater(sum(matrix.values()), 500, "the matrix is generated from the registry")

    def _read_forbidden(self, role, name):
        """Reading is a leak when the role may not read the model at all, or reads another company's."""
        if role == "other company's collector":
            return "company_id" in self.env[name]._fields and name not in CORE
        return not self.env[name].with_user(self.roles[role]).has_access("read")

    def _report(self, matrix, errors, needs_args):
        models = sorted({name for name, _role, _outcome in matrix})
        outcomes = sorted({outcome for _name, _role, outcome in matrix})
        lines = [f"RPC door matrix: {len(models)} models x {len(self.roles)} roles, {sum(matrix.values())} calls"]
        totals = Counter()
        for (_name, role, outcome), count in matrix.items():
            totals[role, outcome] += count
        for role in self.roles:
            lines.append(f"  {role:26} " + ", ".join(f"{outcome} {totals[role, outcome]}" for outcome in outcomes))
        for name in models:
            lines.append(f"  {name:40} " + ", ".join(
                f"{outcome} {sum(matrix[name, role, outcome] for role in self.roles)}" for outcome in outcomes))
        lines += [f"  needs arguments: {item}" for item in sorted(needs_args)]
        lines += [f"  error: {item}" for item in sorted(set(errors))[:40]]
        _logger.info("\n".join(lines))
