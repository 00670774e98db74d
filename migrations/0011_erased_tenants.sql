CREATE TABLE `erased_tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`erased_at` text NOT NULL
);
