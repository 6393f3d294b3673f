CREATE TABLE `call_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`call_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`disposition` text,
	`provider_call_id` text,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`payload` text NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `call_events_call` ON `call_events` (`call_id`);--> statement-breakpoint
CREATE TABLE `calls` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`organization_id` text NOT NULL,
	`campaign_pk` integer NOT NULL,
	`import_id` text NOT NULL,
	`batch_no` integer NOT NULL,
	`origin` text NOT NULL,
	`customer_id` integer NOT NULL,
	`phone_number` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`disposition` text,
	`provider_call_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`not_before` integer,
	`claim_token` text,
	`claimed_at` integer,
	`dispatched_at` integer,
	`finished_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`campaign_pk`) REFERENCES `campaigns`(`pk`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`import_id`) REFERENCES `imports`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calls_id` ON `calls` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `calls_import_customer_origin` ON `calls` (`import_id`,`customer_id`,`origin`);--> statement-breakpoint
CREATE INDEX `calls_import_batch` ON `calls` (`import_id`,`batch_no`);--> statement-breakpoint
CREATE INDEX `calls_campaign` ON `calls` (`campaign_pk`,`pk`);--> statement-breakpoint
CREATE INDEX `calls_campaign_status` ON `calls` (`campaign_pk`,`status`,`pk`);
