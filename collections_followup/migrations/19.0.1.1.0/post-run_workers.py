"""19.0.1.1.0: the daily run's second worker is active, and the addon's scheduled actions are kept as an
administrator set them across updates.

19.0.1.0.0 shipped the second worker off. Its data now says on; an update does not write records that were
created before (their data is ``noupdate`` now), so this script turns the worker on, as on a new database, and
marks the addon's scheduled actions as not updated: before, each update wrote back the shipped hour and activity of
every one of them over an administrator's. Idempotent."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE ir_model_data
           SET noupdate = TRUE
         WHERE module = 'collections_followup' AND model = 'ir.cron' AND NOT noupdate
        """
    )
    cr.execute(
        """
        UPDATE ir_cron cron
           SET active = TRUE
          FROM ir_model_data data
         WHERE data.module = 'collections_followup' AND data.name = 'ir_cron_collections_run_second_worker'
           AND data.model = 'ir.cron' AND data.res_id = cron.id AND NOT cron.active
        """
    )
