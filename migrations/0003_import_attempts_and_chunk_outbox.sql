CREATE TABLE `import_responses` (
	`import_id` text NOT NULL,
	`part` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`import_id`, `part`),
	FOREIGN KEY (`import_id`) REFERENCES `imports`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `dispatch_batches` ADD `max_customer_id` integer;--> statement-breakpoint
-- Batches written before this migration get their highest customer id too: a chunk's outbox
-- statement hands over only customers above it.
UPDATE `dispatch_batches` SET `max_customer_id` = (SELECT MAX(`value`) FROM json_each(`customer_ids`));--> statement-breakpoint
ALTER TABLE `imports` ADD `started_at` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `attempt` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
UPDATE `imports` SET `started_at` = `created_at`;--> statement-breakpoint
-- Stored answers move to import_responses (one part each: they were under D1's 2 MB limit).
INSERT INTO `import_responses` (`import_id`, `part`, `data`)
  SELECT `id`, 0, `response_body` FROM `imports` WHERE `response_body` IS NOT NULL;--> statement-breakpoint
ALTER TABLE `imports` DROP COLUMN `response_body`;