ALTER TABLE `mail_dead_letters` ADD `recipient_digest` text;--> statement-breakpoint
CREATE INDEX `mail_dead_letters_recipient` ON `mail_dead_letters` (`tenant_id`,`recipient_digest`);