ALTER TABLE `tenants` ADD `suspended_at` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `suspended_reason` text;