CREATE INDEX `blog_posts_tenant_author` ON `blog_posts` (`tenant_id`,`author_id`,`id`);--> statement-breakpoint
CREATE INDEX `files_tenant_creator` ON `files` (`tenant_id`,`created_by`,`id`);