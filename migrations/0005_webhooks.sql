CREATE TABLE `webhook_deliveries` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`webhook_pk` integer NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_response_status` integer,
	`last_error` text,
	`next_attempt_at` integer,
	`last_attempt_at` integer,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`webhook_pk`) REFERENCES `webhooks`(`pk`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_id` ON `webhook_deliveries` (`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook` ON `webhook_deliveries` (`webhook_pk`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook_status` ON `webhook_deliveries` (`webhook_pk`,`status`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_finished` ON `webhook_deliveries` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`organization_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`secret` text,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`secret_rotated_at` integer,
	`created_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_id` ON `webhooks` (`id`);--> statement-breakpoint
CREATE INDEX `webhooks_live_org` ON `webhooks` (`organization_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
-- Outcome events, written by the same statement that changes the outcome's row: an event can never
-- be lost between the state change and its recording, and the call, import and workflow code needs
-- no change. Each trigger first checks that the organization has a live webhook at all (one probe
-- of webhooks_live_org), so an organization without webhooks pays one index lookup per finished
-- row. One pending delivery per subscribed webhook; the payload is the Standard Webhooks body
-- {type, timestamp, data}, built here and sent byte for byte on every attempt. Times are ISO 8601
-- UTC with milliseconds, computed with integer arithmetic so they match JavaScript's toISOString.
CREATE TRIGGER `webhook_event_call` AFTER UPDATE OF `status` ON `calls`
WHEN NEW.status IN ('completed', 'failed', 'skipped') AND OLD.status IS NOT NEW.status
  AND EXISTS (SELECT 1 FROM webhooks WHERE organization_id = NEW.organization_id AND deleted_at IS NULL)
BEGIN
  INSERT INTO webhook_deliveries (id, webhook_pk, event_type, payload, status, attempts, created_at, updated_at)
  SELECT 'msg_' || lower(hex(randomblob(12))), w.pk, 'call.' || NEW.status,
    json_object(
      'type', 'call.' || NEW.status,
      'timestamp', strftime('%Y-%m-%dT%H:%M:%S', coalesce(NEW.finished_at, NEW.updated_at) / 1000, 'unixepoch')
        || printf('.%03dZ', coalesce(NEW.finished_at, NEW.updated_at) % 1000),
      'data', json_object(
        'callId', NEW.id,
        'status', NEW.status,
        'reason', NEW.reason,
        'disposition', NEW.disposition,
        'attempts', NEW.attempts,
        'providerCallId', NEW.provider_call_id,
        'customerId', NEW.customer_id,
        'loan_id', cu.loan_id,
        'lead_id', cu.lead_id,
        'phone_number', NEW.phone_number,
        'campaignId', ca.id,
        'importId', NEW.import_id,
        'origin', NEW.origin,
        'createdAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.created_at % 1000),
        'dispatchedAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.dispatched_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.dispatched_at % 1000),
        'finishedAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.finished_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.finished_at % 1000))),
    'pending', 0, NEW.updated_at, NEW.updated_at
  FROM webhooks w
  LEFT JOIN customers cu ON cu.id = NEW.customer_id
  LEFT JOIN campaigns ca ON ca.pk = NEW.campaign_pk
  WHERE w.organization_id = NEW.organization_id AND w.deleted_at IS NULL
    AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = 'call.' || NEW.status);
END;
--> statement-breakpoint
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
        'campaignId', ca.id,
        'results', json_object(
          'total', NEW.total,
          'valid', NEW.valid,
          'invalid', NEW.invalid,
          'successful', NEW.successful,
          'failed', NEW.failed,
          'batchesProcessed', NEW.batches_processed),
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
--> statement-breakpoint
CREATE TRIGGER `webhook_event_workflow` AFTER UPDATE OF `status` ON `workflow_runs`
WHEN NEW.status IN ('completed', 'failed') AND OLD.status IS NOT NEW.status
  AND EXISTS (SELECT 1 FROM imports i JOIN webhooks w ON w.organization_id = i.organization_id
    AND w.deleted_at IS NULL WHERE i.id = NEW.import_id)
BEGIN
  INSERT INTO webhook_deliveries (id, webhook_pk, event_type, payload, status, attempts, created_at, updated_at)
  SELECT 'msg_' || lower(hex(randomblob(12))), w.pk, 'workflow.' || NEW.status,
    json_object(
      'type', 'workflow.' || NEW.status,
      'timestamp', strftime('%Y-%m-%dT%H:%M:%S', NEW.updated_at / 1000, 'unixepoch')
        || printf('.%03dZ', NEW.updated_at % 1000),
      'data', json_object(
        'instanceId', NEW.instance_id,
        'status', NEW.status,
        'outcome', NEW.outcome,
        'reason', NEW.last_error,
        'step', NEW.step,
        'customerId', NEW.customer_id,
        'loan_id', cu.loan_id,
        'lead_id', cu.lead_id,
        'phone_number', cu.phone_number,
        'campaignId', ca.id,
        'importId', NEW.import_id,
        'createdAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.created_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.created_at % 1000),
        'startedAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.started_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.started_at % 1000),
        'finishedAt', strftime('%Y-%m-%dT%H:%M:%S', NEW.updated_at / 1000, 'unixepoch')
          || printf('.%03dZ', NEW.updated_at % 1000))),
    'pending', 0, NEW.updated_at, NEW.updated_at
  FROM imports i
  JOIN webhooks w ON w.organization_id = i.organization_id AND w.deleted_at IS NULL
  LEFT JOIN campaigns ca ON ca.pk = i.campaign_pk
  LEFT JOIN customers cu ON cu.id = NEW.customer_id
  WHERE i.id = NEW.import_id
    AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = 'workflow.' || NEW.status);
END;
--> statement-breakpoint
-- Workflow `webhook` steps used to name a URL and were signed with one deployment-wide secret. Each
-- (organization, URL) that such a step named becomes a webhook of that organization, subscribed to no
-- event (it receives the workflow.step events of the steps that name it), and the steps name it
-- instead. It has no secret yet: its deliveries fail, visibly, until the organization rotates the
-- secret (POST /api/v1/webhooks/{id}/rotate-secret), which is also how it learns the secret.
INSERT INTO `webhooks` (`id`, `organization_id`, `url`, `events`, `description`, `secret`, `created_at`)
SELECT 'wh_' || lower(hex(randomblob(12))), organization_id, url, '[]',
  'Created from the workflow webhook steps that named this URL. Rotate its secret to receive one.',
  NULL, CAST(unixepoch('subsec') * 1000 AS INTEGER)
FROM (
  SELECT DISTINCT c.organization_id, s.value ->> 'url' AS url
  FROM campaigns c, json_each(c.workflow, '$.steps') s
  WHERE c.workflow IS NOT NULL AND s.value ->> 'type' = 'webhook' AND s.value ->> 'url' IS NOT NULL
  ORDER BY c.organization_id, url
);
--> statement-breakpoint
UPDATE `campaigns` SET `workflow` = json_set(`workflow`, '$.steps', (
  SELECT json_group_array(json(CASE
    WHEN s.value ->> 'type' = 'webhook' AND s.value ->> 'url' IS NOT NULL
    THEN json_object('type', 'webhook', 'webhookId', (
      SELECT w.id FROM webhooks w
      WHERE w.organization_id = campaigns.organization_id AND w.url = s.value ->> 'url' AND w.deleted_at IS NULL
      ORDER BY w.pk LIMIT 1))
    ELSE s.value END) ORDER BY s.key)
  FROM json_each(`campaigns`.`workflow`, '$.steps') s))
WHERE `workflow` IS NOT NULL AND EXISTS (
  SELECT 1 FROM json_each(`workflow`, '$.steps') s
  WHERE s.value ->> 'type' = 'webhook' AND s.value ->> 'url' IS NOT NULL);
