"""The road x role table of every protected field, generated from the registry.

Every field only Collections sets (``_collections_protected_fields`` of every model: the addon's own
models, and the core models it extends: invoices, journal items, customers, sales orders), states and
approvals included, is tried through every road Odoo opens to a user, as every role:

- roads: create values, ``default_*`` context, the user's own ir.default, the company's ir.default,
  write, write on several records, ``web_save`` (the form), ``load`` (import), ``copy`` with a default,
  and every related field of another model that writes through to it;
- roles: public, portal, salesperson, billing, collector, collections manager.

A cell passes when the road is refused or when the stored record does not hold the planted value. A
field or state added tomorrow is in the table the day it is added.
"""
import logging
from collections import Counter
from datetime import timedelta

import psycopg2

from odoo import Command, fields
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.collections_guard import protected_fields, server
from .common import TODAY, CollectionsCommon

_logger = logging.getLogger(__name__)

ROADS = ("create", "default_context", "user_default", "company_default", "write", "write_many", "web_save",
         "load", "copy")
# Roads that make a record (the others change an existing one).
CREATING = ("create", "default_context", "user_default", "company_default", "copy")
# What a closed road answers: Odoo's refusals, and the database's (a NOT NULL left empty).
REFUSALS = (AccessError, MissingError, UserError, ValidationError, psycopg2.Error)
# Models whose records are only ever made inside another's (a journal item inside its entry).
NO_CREATE = {"account.move.line"}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRoadRoleTable(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, login="portal_roads", groups="base.group_portal")
        cls.portal.partner_id.parent_id = cls.customer
        cls.roles = {
            "public": cls.env.ref("base.public_user"), "portal": cls.portal, "salesperson": cls.salesman,
            "billing": cls.billing, "collector": cls.collector, "manager": cls.manager,
        }
        # At least two records of every model with protected fields: what the daily run, a collector and a
        # manager leave behind after some weeks.
        invoices = [cls._invoice(cls.customer, amount, late) for amount, late in
                    ((900.0, 70), (400.0, 40), (300.0, 20), (250.0, 100), (120.0, 5))]
        cls.company.account_use_credit_limit = True
        fee_product = cls.env["product.product"].create({"name": "Late charges", "type": "service"})
        cls.policy.with_user(cls.manager).fee_product_id = fee_product
        cls.level_first.with_user(cls.manager).write({"fee_type": "fixed", "fee_fixed": 10.0})
        cls.env["collections.run"].with_company(cls.company)._run_company(cls.company, TODAY)
        as_collector = cls.env(user=cls.collector)
        for invoice in invoices[:2]:
            as_collector["collections.settlement"].create({
                "partner_id": cls.customer.id, "move_ids": [Command.set(invoice.ids)], "amount_agreed": 100.0,
                "deadline": TODAY + timedelta(days=10), "reason": "Cash-flow trouble",
            })
        for invoice in invoices[2:4]:
            as_collector["collections.payment.plan"].create({
                "partner_id": cls.customer.id, "move_ids": [Command.set(invoice.ids)], "instalment_count": 2,
                "first_date": TODAY + timedelta(days=10),
            })
            as_collector["collections.promise"].create({
                "partner_id": cls.customer.id, "amount": 50.0, "promised_date": TODAY + timedelta(days=3),
                "channel": "phone", "move_ids": [Command.set(invoice.ids)],
            })
            as_collector["collections.dispute"].create({
                "partner_id": cls.customer.id, "move_ids": [Command.set(invoice.ids)], "description": "Wrong price",
                "reason_id": cls.env.ref("collections_followup.dispute_reason_price").id,
            })
        agency = cls.env["res.partner"].create({"name": "Road Agency", "collections_is_agency": True})
        for invoice in invoices[3:5]:
            as_collector["collections.case"].create({
                "partner_id": cls.customer.id, "move_ids": [Command.set(invoice.ids)], "agency_id": agency.id,
                "commission_rate": 10.0,
            })
        cls.customer.with_user(cls.manager).write({"credit_limit": 5000.0})
        cls.customer.with_user(cls.manager).write({"credit_limit": 6000.0})
        if "sale.order" in cls.env:
            for _index in range(2):
                cls.env["sale.order"].sudo().create({"partner_id": cls.customer.id})

    # -- what the table is made of --------------------------------------------------

    def _models(self):
        """{model: protected fields}, every model of the registry that has some."""
        table = {}
        for name in sorted(self.env.registry):
            Model = self.env[name]
            if Model._abstract or Model._transient:
                continue
            protected = {field for field in protected_fields(Model)
                         if Model._fields[field].store and Model._fields[field].type != "one2many"}
            if protected:
                table[name] = protected
        return table

    def _records(self, name):
        Model = self.env[name].sudo()
        domain = []
        if name == "res.partner":
            domain = [("id", "=", self.customer.id)]
        elif name in ("account.move", "account.move.line"):
            domain = [("partner_id", "=", self.customer.id), ("move_type", "=", "out_invoice")]
            if name == "account.move.line":
                domain.append(("account_id.account_type", "=", "asset_receivable"))
        elif "company_id" in Model._fields and Model._fields["company_id"].store:
            domain = [("company_id", "in", (self.company.id, False))]
        return Model.search(domain, order="id", limit=2)

    def _planted(self, Model, name, record):
        """A value the field does not hold on ``record`` and that no code default gives it."""
        field = Model._fields[name]
        current = record[name]
        if field.type == "selection":
            values = [value for value, _label in field._description_selection(self.env)]
            return next(value for value in reversed(values) if value != current)
        if field.type == "many2one":
            return self.env[field.comodel_name].sudo().search([("id", "not in", current.ids)], limit=1).id
        if field.type == "many2many":
            return [Command.set(self.env[field.comodel_name].sudo().search([], limit=1).ids)]
        return {
            "boolean": not current, "integer": 77, "float": 1e9, "monetary": 1e9, "date": "2020-02-02",
            "datetime": "2020-02-02 02:02:02", "json": {"planted": 1}, "binary": "cGxhbnRlZA==",
            "html": "<p>planted</p>",
        }.get(field.type, "planted")

    @staticmethod
    def _holds(record, name, planted):
        """Does the stored ``record`` hold the planted value?"""
        field = record._fields[name]
        value = record.sudo()[name]
        if field.type == "many2one":
            return value.id == planted
        if field.type == "many2many":
            return bool(value) and value.ids == planted[0][2]
        if field.type == "datetime":
            return fields.Datetime.to_string(value) == planted
        if field.type == "date":
            return fields.Date.to_string(value) == planted
        if field.type == "binary":
            return bool(value)
        if field.type == "html":
            return "planted" in str(value or "")
        return value == planted

    def _base_values(self, name, record):
        if name == "account.move":
            return {"move_type": "out_invoice", "partner_id": self.customer.id}
        if name == "res.partner":
            return {"name": "Road test"}
        if name == "sale.order":
            return {"partner_id": self.customer.id}
        # copy_data outside server code leaves the protected fields out (collections_guard)
        return record[:1].sudo().copy_data()[0]

    # -- one cell -------------------------------------------------------------------

    def _try(self, road, name, field_name, user, records, planted):
        """(outcome, the record to look at or None). Outcomes: refused, not taken, TAKEN."""
        Model = self.env[name].with_user(user)
        record = records[:1]
        values = {field_name: planted}
        made = None
        if road == "create":
            made = Model.create({**self._base_values(name, records), **values})
        elif road == "default_context":
            made = Model.with_context(**{f"default_{field_name}": planted}).create(self._base_values(name, records))
        elif road in ("user_default", "company_default"):
            planted_default = planted[0][2] if isinstance(planted, list) else planted
            self.env["ir.default"].with_user(user).set(
                name, field_name, planted_default,
                user_id=road == "user_default", company_id=road == "company_default")
            made = Model.create(self._base_values(name, records))
        elif road == "write":
            record.with_user(user).write(values)
        elif road == "write_many":
            records.with_user(user).write(values)
        elif road == "web_save":
            record.with_user(user).web_save(values, {})
        elif road == "load":
            xmlid = record.sudo()._export_rows([["id"]])[0][0]
            field = Model._fields[field_name]
            value = planted[0][2][0] if isinstance(planted, list) else planted
            column = f"{field_name}/.id" if field.type in ("many2one", "many2many") else field_name
            result = Model.load(["id", column], [[xmlid, str(value)]])
            if not result.get("ids"):
                return "refused", None
        elif road == "copy":
            made = record.with_user(user).copy(values)
        target = made if road in CREATING else records
        target.invalidate_recordset()
        taken = any(self._holds(rec, field_name, planted) for rec in target)
        return ("TAKEN" if taken else "not taken"), target

    def _cell(self, road, name, field_name, user, records):
        planted = self._planted(self.env[name], field_name, records[:1].sudo())
        savepoint = self.env.cr.savepoint()
        try:
            with mute_logger("odoo.sql_db", "odoo.models", "odoo.models.unlink", "odoo.addons.base.models.ir_model",
                             "odoo.addons.base.models.ir_rule"):
                outcome, _target = self._try(road, name, field_name, user, records, planted)
                self.env.flush_all()
        except REFUSALS:
            outcome = "refused"
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()
            if road in ("user_default", "company_default"):
                self.env.registry.clear_cache()  # the planted ir.default, cached by Odoo
        return outcome

    def test_no_road_sets_a_protected_field_as_any_role(self):
        table = Counter()
        taken = []
        models = self._models()
        for name, protected in models.items():
            records = self._records(name)
            self.assertTrue(records, f"{name}: the fixture makes records of every model with protected fields")
            for field_name in sorted(protected):
                for road in ROADS:
                    if road in CREATING and name in NO_CREATE:
                        continue
                    for role, user in self.roles.items():
                        outcome = self._cell(road, name, field_name, user, records)
                        table[name, road, outcome] += 1
                        if outcome == "TAKEN":
                            taken.append(f"{role}: {name}.{field_name} through {road}")
        self._report(models, table)
        self.assertFalse(taken, "a protected field took a value a user gave it:\n" + "\n".join(taken))
        # the table is generated: every model the addons protect fields of, states and approvals among them
        for name, field_name in (("collections.payment.plan", "state"), ("collections.settlement", "state"),
                                 ("collections.settlement", "approved_by_id"), ("collections.case", "state"),
                                 ("account.move", "collections_fee_source"), ("res.partner", "collections_credit_hold"),
                                 ("collections.action", "digest")):
            self.assertIn(field_name, models.get(name, ()), f"{name}.{field_name} is in the table")
        self.assertGreater(sum(table.values()), 2000)

    def _related_roads(self, models):
        """(model, field, target model, target field) of every writable related field ending on a protected
        field (res.users' fields delegated to its partner among them)."""
        roads = []
        for name in sorted(self.env.registry):
            for field in self.env[name]._fields.values():
                if not field.related or field.readonly:
                    continue
                path = field.related.split(".") if isinstance(field.related, str) else list(field.related)
                target = self.env[name]
                for step in path[:-1]:
                    target = self.env[target._fields[step].comodel_name]
                if path[-1] in models.get(target._name, ()):
                    roads.append((name, field.name, target._name, path[-1]))
        return roads

    def test_related_fields_do_not_write_through_to_a_protected_field(self):
        """A writable related field of another model that ends on a protected field is a road: written as
        each role (on the role's own user for res.users, else on a record of the model), nothing is taken."""
        models = self._models()
        roads = self._related_roads(models)
        table, taken = Counter(), []
        for name, field_name, target_name, target_field in roads:
            for role, user in self.roles.items():
                record = user if name == "res.users" else self.env[name].sudo().search([], limit=1)
                planted = self._planted(self.env[name], field_name, record.sudo())
                savepoint = self.env.cr.savepoint()
                try:
                    with mute_logger("odoo.sql_db", "odoo.models", "odoo.addons.base.models.ir_model",
                                     "odoo.addons.base.models.ir_rule"):
                        record.with_user(user).write({field_name: planted})
                        self.env.flush_all()
                        record.invalidate_recordset()
                        outcome = "TAKEN" if self._holds(record, field_name, planted) else "not taken"
                except REFUSALS:
                    outcome = "refused"
                finally:
                    savepoint.close(rollback=True)
                    self.env.invalidate_all()
                table[outcome] += 1
                if outcome == "TAKEN":
                    taken.append(f"{role}: {name}.{field_name} -> {target_name}.{target_field}")
        _logger.info("Related roads to protected fields: %s, as %s roles: %s", len(roads), len(self.roles), dict(table))
        self.assertTrue(roads, "res.users delegates its partner's fields: the scan finds them")
        self.assertFalse(taken, "a related field wrote a protected field:\n" + "\n".join(taken))

    def test_the_table_sees_a_road_that_is_open(self):
        """The oracle can fail: server code (which may set these fields) goes through the same roads."""
        settlement = self._records("collections.settlement")
        Settlement = server(self.env["collections.settlement"].with_user(self.collector))
        outcome, _record = self._try("write", "collections.settlement", "state", self.collector,
                                     server(settlement.with_user(self.collector)), "cancelled")
        self.assertEqual(outcome, "TAKEN")
        made = Settlement.create({**self._base_values("collections.settlement", settlement), "approved_date": False,
                                  "state": "cancelled"})
        self.assertEqual(made.state, "cancelled")

    def _report(self, models, table):
        outcomes = ("refused", "not taken", "TAKEN")
        lines = [f"Road x role table: {len(models)} models, {sum(len(f) for f in models.values())} protected fields, "
                 f"{len(ROADS)} roads, {len(self.roles)} roles, {sum(table.values())} cells"]
        for name in models:
            lines.append(f"  {name:34} " + "; ".join(
                f"{road}: " + "/".join(str(table[name, road, outcome]) for outcome in outcomes)
                for road in ROADS if any(table[name, road, outcome] for outcome in outcomes)))
        lines.append("  (each road: refused/not taken/TAKEN)")
        _logger.info("\n".join(lines))
