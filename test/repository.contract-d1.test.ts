// The repository contract on D1: the binding of this Worker, inside workerd, with the migrations the
// setup file applied. The same suite runs on libSQL in test/libsql/repository.contract.test.ts.
import { env } from "cloudflare:workers";
import { createD1Db } from "../src/db/client";
import { repositoryContract } from "./contract/repository-contract";

repositoryContract("D1 (local, inside workerd)", async () => createD1Db(env.DB));
