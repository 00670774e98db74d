CREATE TABLE `event_streams` (
	`stream` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`type` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `event_streams_type` ON `event_streams` (`type`,`stream`);--> statement-breakpoint
CREATE INDEX `event_streams_tenant_type` ON `event_streams` (`tenant_id`,`type`,`stream`);