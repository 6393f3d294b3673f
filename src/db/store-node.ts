// libSQL from Node: local file: and :memory: databases (tools, the libsql test project) as well as
// remote URLs. Never imported by the Worker: the Node client loads a native library.
import { type Client, createClient } from "@libsql/client";
import { createLibsqlDb, type Db } from "./client";

export interface NodeStore {
  client: Client;
  db: Db;
}

export function openNodeStore(url: string, authToken?: string): NodeStore {
  const client = createClient({ url, authToken });
  return { client, db: createLibsqlDb(client) };
}
