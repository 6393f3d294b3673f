CREATE TABLE `agents` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_org_id` ON `agents` (`organization_id`,`id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`campaign_type` text NOT NULL,
	`timezone` text NOT NULL,
	`default_country` text NOT NULL,
	`window_start` text NOT NULL,
	`window_end` text NOT NULL,
	`window_days` text NOT NULL,
	`workflow` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaigns_org_id` ON `campaigns` (`organization_id`,`id`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_pk` integer NOT NULL,
	`dedupe_key` text NOT NULL,
	`loan_id` text,
	`lead_id` text,
	`first_name` text NOT NULL,
	`last_name` text,
	`phone_number` text NOT NULL,
	`loan_amount` real,
	`emi_amount` real,
	`loan_period` integer,
	`current_emi` integer,
	`emi_due_date` text,
	`payment_status` text,
	`language` text,
	`lead_date` text,
	`variables` text,
	`import_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_pk`) REFERENCES `campaigns`(`pk`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customers_campaign_key` ON `customers` (`campaign_pk`,`dedupe_key`);--> statement-breakpoint
CREATE TABLE `dispatch_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`import_id` text NOT NULL,
	`kind` text NOT NULL,
	`batch_no` integer NOT NULL,
	`customer_ids` text NOT NULL,
	`size` integer NOT NULL,
	`state` text NOT NULL,
	`send_attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`import_id`) REFERENCES `imports`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dispatch_batches_import_kind_no` ON `dispatch_batches` (`import_id`,`kind`,`batch_no`);--> statement-breakpoint
CREATE INDEX `dispatch_batches_state` ON `dispatch_batches` (`state`,`updated_at`);--> statement-breakpoint
CREATE TABLE `dispositions` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dispositions_org_id` ON `dispositions` (`organization_id`,`id`);--> statement-breakpoint
CREATE TABLE `imports` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`campaign_pk` integer NOT NULL,
	`idempotency_key` text,
	`body_hash` text,
	`state` text NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`valid` integer DEFAULT 0 NOT NULL,
	`invalid` integer DEFAULT 0 NOT NULL,
	`successful` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`batches_processed` integer DEFAULT 0 NOT NULL,
	`initiate_call` integer DEFAULT false NOT NULL,
	`use_workflow` integer DEFAULT false NOT NULL,
	`agent_id` text,
	`disposition_id` text,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`campaign_pk`) REFERENCES `campaigns`(`pk`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `imports_org_idempotency_key` ON `imports` (`organization_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `imports_campaign` ON `imports` (`campaign_pk`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `suppressions` (
	`organization_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`reason` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	PRIMARY KEY(`organization_id`, `phone_number`),
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
