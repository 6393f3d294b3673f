-- Local development values (never used outside `npm run dev`): one organization whose API key is
-- "local-dev-key", campaigns demo-emi (emi) and demo-lead (lead), agent demo-agent, disposition
-- demo-disposition, which are also the campaigns' default agent and disposition (so callConfig may
-- be left out). Every statement is idempotent, so the seed runs on every start.
INSERT OR IGNORE INTO organizations (id, name) VALUES ('org_local', 'Local development');
INSERT OR IGNORE INTO api_keys (id, organization_id, name, key_hash)
  VALUES ('key_local', 'org_local', 'local-dev-key', 'ed5a18fb8f807f996d649e379d3f35f39c543a91bdbf88c492f2ebd10d4df86c');
INSERT OR IGNORE INTO campaigns (organization_id, id, name, campaign_type, timezone, default_country,
  window_start, window_end, window_days, agent_id, disposition_id, created_at)
  VALUES ('org_local', 'demo-emi', 'Demo EMI collections', 'emi', 'Asia/Kolkata', 'IN', '08:00', '19:00',
    '["mon","tue","wed","thu","fri","sat","sun"]', 'demo-agent', 'demo-disposition',
    CAST(unixepoch('subsec') * 1000 AS INTEGER));
INSERT OR IGNORE INTO campaigns (organization_id, id, name, campaign_type, timezone, default_country,
  window_start, window_end, window_days, agent_id, disposition_id, created_at)
  VALUES ('org_local', 'demo-lead', 'Demo lead follow-up', 'lead', 'Asia/Kolkata', 'IN', '08:00', '19:00',
    '["mon","tue","wed","thu","fri","sat","sun"]', 'demo-agent', 'demo-disposition',
    CAST(unixepoch('subsec') * 1000 AS INTEGER));
INSERT OR IGNORE INTO agents (organization_id, id, name) VALUES ('org_local', 'demo-agent', 'Demo agent');
INSERT OR IGNORE INTO dispositions (organization_id, id, name)
  VALUES ('org_local', 'demo-disposition', 'Demo dispositions');
-- A local database seeded before campaigns carried defaults gets them too (so does one whose
-- defaults were cleared: this seed runs on every start).
UPDATE campaigns SET agent_id = 'demo-agent', disposition_id = 'demo-disposition'
  WHERE organization_id = 'org_local' AND id IN ('demo-emi', 'demo-lead') AND deleted_at IS NULL
    AND agent_id IS NULL AND disposition_id IS NULL;
