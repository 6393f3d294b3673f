import type { Deps } from "../deps";
import type { AppEnv } from "../env";

export interface AppBindings {
  Bindings: AppEnv;
  Variables: {
    deps: Deps;
    requestId: string;
    organizationId: string;
    rawBody: ArrayBuffer;
  };
}
