ALTER TABLE `tenants` ADD `erasure_failures` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `erasure_failed_step` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `erasure_error` text;