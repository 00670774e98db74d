CREATE TABLE `mail_suppressions` (
	`tenant_id` text NOT NULL,
	`digest` text NOT NULL,
	`until` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `digest`)
);
--> statement-breakpoint
CREATE INDEX `mail_suppressions_until` ON `mail_suppressions` (`until`);