CREATE TABLE `import_responses` (
	`import_id` text NOT NULL,
	`part` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`import_id`, `part`),
	FOREIGN KEY (`import_id`) REFERENCES `imports`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `dispatch_batches` ADD `max_customer_id` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `started_at` integer;--> statement-breakpoint
ALTER TABLE `imports` DROP COLUMN `response_body`;