import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The loopback dialer and webhook receiver of test/dialer-server.ts. */
      DIALER_URL: string;
    }
  }
}
