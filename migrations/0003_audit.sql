CREATE TABLE `audit_entries` (
	`tenant_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` text NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_id` text,
	`action` text NOT NULL,
	`target` text,
	`request_id` text,
	`ip_hash` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `audit_entries_tenant_action` ON `audit_entries` (`tenant_id`,`action`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_entries_tenant_actor` ON `audit_entries` (`tenant_id`,`actor_id`,`seq`);