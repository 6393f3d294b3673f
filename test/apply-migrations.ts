import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file starts from the same schema as production: the files in migrations/.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
