// Environment-neutral spreadsheet import: no Node APIs, so the CLI (clients/cli) and a browser
// console share it. Reading files, HTTP, retries and progress belong to the program around it.
export * from "./answers";
export * from "./api-client";
export * from "./columns";
export * from "./controls";
export * from "./csv";
export * from "./errors";
export * from "./fields";
export * from "./file";
export * from "./idempotency";
export * from "./parts";
export * from "./plan";
export * from "./records";
export * from "./rejects";
export * from "./send";
export * from "./table";
export * from "./xlsx";
