CREATE TABLE `call_attempts` (
	`call_pk` integer NOT NULL,
	`attempt` integer NOT NULL,
	`organization_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`loan_id` text,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`outcome` text,
	`reason` text,
	`disposition` text,
	`outcome_event_id` text,
	PRIMARY KEY(`call_pk`, `attempt`),
	FOREIGN KEY (`call_pk`) REFERENCES `calls`(`pk`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `call_attempts_phone` ON `call_attempts` (`organization_id`,`phone_number`,`started_at`);--> statement-breakpoint
CREATE INDEX `call_attempts_loan` ON `call_attempts` (`organization_id`,`loan_id`,`started_at`) WHERE loan_id IS NOT NULL;--> statement-breakpoint
CREATE TABLE `call_decisions` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`call_pk` integer NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`not_before` integer,
	`attempt` integer NOT NULL,
	FOREIGN KEY (`call_pk`) REFERENCES `calls`(`pk`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `call_decisions_call` ON `call_decisions` (`call_pk`,`pk`);--> statement-breakpoint
CREATE TABLE `__new_call_events` (
	`organization_id` text NOT NULL,
	`event_id` text NOT NULL,
	`call_id` text NOT NULL,
	`attempt` integer,
	`receipt` text,
	`status` text NOT NULL,
	`reason` text,
	`disposition` text,
	`provider_call_id` text,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`payload` text NOT NULL,
	PRIMARY KEY(`organization_id`, `event_id`),
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
-- Event ids become unique per organization: each stored event takes the organization of its call.
INSERT INTO `__new_call_events`("organization_id", "event_id", "call_id", "attempt", "receipt", "status", "reason", "disposition", "provider_call_id", "occurred_at", "received_at", "payload")
SELECT c."organization_id", e."event_id", e."call_id", NULL, NULL, e."status", e."reason", e."disposition", e."provider_call_id", e."occurred_at", e."received_at", e."payload"
FROM `call_events` e JOIN `calls` c ON c."id" = e."call_id";--> statement-breakpoint
DROP TABLE `call_events`;--> statement-breakpoint
ALTER TABLE `__new_call_events` RENAME TO `call_events`;--> statement-breakpoint
CREATE INDEX `call_events_call` ON `call_events` (`call_id`);--> statement-breakpoint
ALTER TABLE `calls` ADD `loan_id` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `agent_id` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `disposition_id` text;--> statement-breakpoint
CREATE INDEX `calls_delayed_due` ON `calls` (`not_before`) WHERE status = 'delayed';--> statement-breakpoint
ALTER TABLE `campaigns` ADD `retry` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `contact_policy` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `blackout_dates` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `dialing_state` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `paused_at` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `dialing_state` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `imports` ADD `paused_at` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `cancelled_at` integer;--> statement-breakpoint
ALTER TABLE `organizations` ADD `contact_policy` text;--> statement-breakpoint
ALTER TABLE `organizations` ADD `blackout_dates` text;--> statement-breakpoint
-- Calls made before this migration: the loan they count against, the agent and disposition of their
-- import, and one attempt row for the attempt each is on, so the contact limits see them.
UPDATE `calls` SET `loan_id` = (SELECT `loan_id` FROM `customers` WHERE `customers`.`id` = `calls`.`customer_id`),
  `agent_id` = (SELECT `agent_id` FROM `imports` WHERE `imports`.`id` = `calls`.`import_id`),
  `disposition_id` = (SELECT `disposition_id` FROM `imports` WHERE `imports`.`id` = `calls`.`import_id`);--> statement-breakpoint
INSERT INTO `call_attempts` (`call_pk`, `attempt`, `organization_id`, `phone_number`, `loan_id`, `started_at`, `ended_at`, `outcome`, `reason`, `disposition`)
SELECT `pk`, `attempts`, `organization_id`, `phone_number`, `loan_id`, coalesce(`claimed_at`, `dispatched_at`, `updated_at`),
  CASE WHEN `status` IN ('completed', 'failed', 'skipped') THEN coalesce(`finished_at`, `updated_at`) END,
  CASE WHEN `status` IN ('completed', 'failed') THEN `status` END,
  CASE WHEN `status` = 'failed' THEN `reason` END,
  `disposition`
FROM `calls` WHERE `attempts` > 0;--> statement-breakpoint
-- The decision log: every change of a call's status, reason or moment is one row, written by the
-- statement that makes it. A claim (`dispatching`) is not a judgement and is left out; what follows
-- it (dispatched, handed back, refused) is logged. So is an erasure that only blanks a reason quoting
-- the customer (src/db/erasure.ts REDACTED): it redacts the logged reasons too, and judges nothing.
CREATE TRIGGER `call_decision_log` AFTER UPDATE OF `status`, `reason`, `not_before` ON `calls`
WHEN NEW.status <> 'dispatching'
  AND (OLD.status IS NOT NEW.status OR OLD.reason IS NOT NEW.reason OR OLD.not_before IS NOT NEW.not_before)
  AND NOT (OLD.status IS NEW.status AND OLD.not_before IS NEW.not_before
    AND NEW.reason IS '[removed: customer data erased]')
BEGIN
  INSERT INTO call_decisions (call_pk, at, status, reason, not_before, attempt)
  VALUES (NEW.pk, NEW.updated_at, NEW.status, NEW.reason, NEW.not_before, NEW.attempts);
END;
--> statement-breakpoint
-- A call that ends, however it ends (an outcome, a refusal, a skip, a cancel, a dead letter), ends
-- its open attempt: the number is free again after the gap.
CREATE TRIGGER `call_attempt_close` AFTER UPDATE OF `status` ON `calls`
WHEN NEW.status IN ('skipped', 'failed', 'completed', 'cancelled') AND OLD.status IS NOT NEW.status
BEGIN
  UPDATE call_attempts SET ended_at = coalesce(NEW.finished_at, NEW.updated_at)
  WHERE call_pk = NEW.pk AND ended_at IS NULL;
END;
