-- The outbox has one name everywhere: the table was dispatch_batches. A rename keeps every row and id.
ALTER TABLE `dispatch_batches` RENAME TO `outbox_batches`;--> statement-breakpoint
DROP INDEX `dispatch_batches_import_kind_no`;--> statement-breakpoint
DROP INDEX `dispatch_batches_state`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_batches_import_kind_no` ON `outbox_batches` (`import_id`,`kind`,`batch_no`);--> statement-breakpoint
CREATE INDEX `outbox_batches_state` ON `outbox_batches` (`state`,`updated_at`);
