ALTER TABLE `tenants` ADD `suspended_at` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `suspended_reason` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `version` integer DEFAULT 1 NOT NULL;