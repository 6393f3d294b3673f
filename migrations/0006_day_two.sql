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
CREATE INDEX `calls_customer` ON `calls` (`customer_id`,`status`);--> statement-breakpoint
-- import.completed also says which kind of request completed (bulk, single, initiation), and carries
-- the counts only some kinds have (a refresh's added/updated/unchanged, an initiation's matched), so
-- that the payload still says what GET /api/v1/imports/{id} says.
DROP TRIGGER `webhook_event_import`;--> statement-breakpoint
CREATE TRIGGER `webhook_event_import` AFTER UPDATE OF `state` ON `imports`
WHEN NEW.state = 'completed' AND OLD.state IS NOT 'completed'
  AND EXISTS (SELECT 1 FROM webhooks WHERE organization_id = NEW.organization_id AND deleted_at IS NULL)
BEGIN
  INSERT INTO webhook_deliveries (id, webhook_pk, event_type, payload, status, attempts, created_at, updated_at)
  SELECT 'msg_' || lower(hex(randomblob(12))), w.pk, 'import.completed',
    json_object(
      'type', 'import.completed',
      'timestamp', strftime('%Y-%m-%dT%H:%M:%S', coalesce(NEW.completed_at, NEW.created_at) / 1000, 'unixepoch')
        || printf('.%03dZ', coalesce(NEW.completed_at, NEW.created_at) % 1000),
      'data', json_object(
        'importId', NEW.id,
        'kind', NEW.kind,
        'campaignId', ca.id,
        'results', json_patch(
          json_object(
            'total', NEW.total,
            'valid', NEW.valid,
            'invalid', NEW.invalid,
            'successful', NEW.successful,
            'failed', NEW.failed,
            'batchesProcessed', NEW.batches_processed),
          json_patch(
            CASE WHEN NEW.added IS NULL THEN '{}'
              ELSE json_object('added', NEW.added, 'updated', NEW.updated, 'unchanged', NEW.unchanged) END,
            CASE WHEN NEW.matched IS NULL THEN '{}' ELSE json_object('matched', NEW.matched) END)),
        'initiateCall', json(CASE WHEN NEW.initiate_call THEN 'true' ELSE 'false' END),
        'useWorkflow', json(CASE WHEN NEW.use_workflow THEN 'true' ELSE 'false' END),
        'createdAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.created_at % 1000),
        'completedAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.completed_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.completed_at % 1000))),
    'pending', 0, coalesce(NEW.completed_at, NEW.created_at), coalesce(NEW.completed_at, NEW.created_at)
  FROM webhooks w
  LEFT JOIN campaigns ca ON ca.pk = NEW.campaign_pk
  WHERE w.organization_id = NEW.organization_id AND w.deleted_at IS NULL
    AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = 'import.completed');
END;
