-- Day two: campaigns get a default agent and disposition and can be deleted (their id becomes
-- free: the unique index only covers live campaigns); customers can be updated and erased; imports
-- have a kind (bulk, single, initiation) and the refresh and initiation counts; two indexes serve a
-- campaign's customers in id order and a customer's calls.
DROP INDEX `campaigns_org_id`;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `agent_id` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `disposition_id` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `deleted_at` integer;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `purged_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `campaigns_org_id` ON `campaigns` (`organization_id`,`id`) WHERE deleted_at IS NULL;--> statement-breakpoint
ALTER TABLE `customers` ADD `updated_at` integer;--> statement-breakpoint
ALTER TABLE `customers` ADD `erased_at` integer;--> statement-breakpoint
CREATE INDEX `customers_campaign` ON `customers` (`campaign_pk`);--> statement-breakpoint
ALTER TABLE `imports` ADD `kind` text DEFAULT 'bulk' NOT NULL;--> statement-breakpoint
ALTER TABLE `imports` ADD `added` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `updated` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `unchanged` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `matched` integer;--> statement-breakpoint
CREATE INDEX `calls_customer` ON `calls` (`customer_id`,`status`);