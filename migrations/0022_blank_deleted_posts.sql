-- A deleted post's tombstone keeps no title or text (src/modules/blog/domain.ts, evolve): those
-- written before that still hold them, and the author's export showed them. Their updated_at stays
-- the last change's (the deletion's time is in the post's event log, not here: docs/identity.md).
UPDATE `blog_posts` SET `title` = '', `content` = '' WHERE `status` = 'deleted' AND (`title` <> '' OR `content` <> '');
