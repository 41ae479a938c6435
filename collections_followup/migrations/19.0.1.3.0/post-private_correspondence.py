"""19.0.1.3.0: what the collections log points to is read by finance users only.

New reminders, letters and statements are marked ``collections_private`` when they are logged; this script marks
those logged before (the messages, their attachments and the letters' documents). Idempotent."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE mail_message message SET collections_private = TRUE
          FROM collections_action entry
         WHERE entry.message_id = message.id AND message.collections_private IS NOT TRUE
        """
    )
    cr.execute(
        """
        UPDATE ir_attachment attachment SET collections_private = TRUE
         WHERE attachment.collections_private IS NOT TRUE
           AND (attachment.id IN (SELECT attachment_id FROM collections_action WHERE attachment_id IS NOT NULL)
                OR attachment.id IN (SELECT rel.attachment_id FROM message_attachment_rel rel
                                       JOIN collections_action entry ON entry.message_id = rel.message_id))
        """
    )
