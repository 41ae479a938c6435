"""19.0.1.2.0: the addon's scheduled actions can be run by hand by administrators only.

A scheduled action is a server action: without groups, any logged-in user (a portal customer too) could start it
from the web client's action route (/web/action/run), and the jobs act for every company. New databases get
Settings / Administration on each (data); this script gives it to the existing ones, whose data is noupdate.
The scheduler runs them as OdooBot, an administrator. Idempotent."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        INSERT INTO ir_act_server_group_rel (act_id, gid)
        SELECT cron.ir_actions_server_id, data_group.res_id
          FROM ir_model_data data
          JOIN ir_cron cron ON cron.id = data.res_id
          JOIN ir_model_data data_group ON data_group.module = 'base' AND data_group.name = 'group_system'
         WHERE data.module = 'collections_followup' AND data.model = 'ir.cron'
            ON CONFLICT DO NOTHING
        """
    )
