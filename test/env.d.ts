import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The loopback dialer of test/dialer-server.ts. */
      DIALER_URL: string;
      /** The loopback webhook receiver of test/webhook-receiver.ts. */
      WEBHOOK_RECEIVER_URL: string;
    }
  }
}
