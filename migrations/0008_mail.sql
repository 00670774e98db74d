CREATE TABLE `mail_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`mail_id` text,
	`tenant_id` text,
	`kind` text,
	`reason` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` text NOT NULL,
	`replayed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mail_dead_letters_message_id_unique` ON `mail_dead_letters` (`message_id`);--> statement-breakpoint
CREATE INDEX `mail_dead_letters_tenant` ON `mail_dead_letters` (`tenant_id`,`id`);--> statement-breakpoint
ALTER TABLE `dev_mailbox` ADD `html` text;