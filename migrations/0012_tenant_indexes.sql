CREATE INDEX `dead_letters_tenant` ON `dead_letters` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `dev_mailbox_tenant` ON `dev_mailbox` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `api_key_index_tenant` ON `api_key_index` (`tenant_id`);