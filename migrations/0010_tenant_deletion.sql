ALTER TABLE `tenants` ADD `deleted_at` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `erasure_done` text;