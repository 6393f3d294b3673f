CREATE TABLE `workflow_runs` (
	`instance_id` text PRIMARY KEY NOT NULL,
	`import_id` text NOT NULL,
	`batch_no` integer NOT NULL,
	`customer_id` integer NOT NULL,
	`status` text NOT NULL,
	`outcome` text,
	`step` integer,
	`last_error` text,
	`started_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`import_id`) REFERENCES `imports`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workflow_runs_import` ON `workflow_runs` (`import_id`,`status`);