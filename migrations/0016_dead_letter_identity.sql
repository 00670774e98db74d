ALTER TABLE `dead_letters` ADD `letter_key` text;--> statement-breakpoint
-- Letters stored before the key get it from the event they hold (kernel/queues/letter-key.ts);
-- of the letters one event has already, one keeps it (a waiting one first), the others none.
UPDATE `dead_letters` SET `letter_key` = `k`.`key` FROM (
  SELECT `id`, json_array('event', `tenant_id`, json_extract(`body`, '$.body.id')) AS `key`,
    row_number() OVER (
      PARTITION BY `tenant_id`, json_extract(`body`, '$.body.id')
      ORDER BY `replayed_at` IS NOT NULL, `id`
    ) AS `n`
  FROM `dead_letters` WHERE json_type(`body`, '$.body.id') = 'text'
) AS `k` WHERE `dead_letters`.`id` = `k`.`id` AND `k`.`n` = 1;--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_letter_key` ON `dead_letters` (`letter_key`);--> statement-breakpoint
ALTER TABLE `mail_dead_letters` ADD `letter_key` text;--> statement-breakpoint
UPDATE `mail_dead_letters` SET `letter_key` = `k`.`key` FROM (
  SELECT `id`, json_array('mail', `tenant_id`, `mail_id`) AS `key`,
    row_number() OVER (PARTITION BY `tenant_id`, `mail_id` ORDER BY `replayed_at` IS NOT NULL, `id`) AS `n`
  FROM `mail_dead_letters` WHERE `mail_id` IS NOT NULL
) AS `k` WHERE `mail_dead_letters`.`id` = `k`.`id` AND `k`.`n` = 1;--> statement-breakpoint
CREATE UNIQUE INDEX `mail_dead_letters_letter_key` ON `mail_dead_letters` (`letter_key`);
