// Counting a request's round trips to D1. Locally a D1 call costs microseconds; in production it is
// a network hop to the database's primary, so what a request pays there is about its number of
// *sequential waves* of calls times the latency of one call. `meterD1` wraps a D1 binding, counts
// every call that goes to the database and groups them into waves; a Worker is handed the wrapped
// binding through a modified `env` (`worker.fetch(request, { ...env, DB: meter.db }, ctx)`), so no
// code under test changes. Shared by test/d1.round-trips.test.ts and the benchmark (bench/).

/** One call to the database, as the wrapper sees it. */
export interface D1CallInfo {
  /** `run`, `all`, `first`, `raw` (a prepared statement), `batch`, `exec` or `dump`. */
  method: "run" | "all" | "first" | "raw" | "batch" | "exec" | "dump";
  /** SQL statements the call carries: 1 for a statement, N for a batch of N; exec's is counted when it answers. */
  statements: number;
  /** The SQL of each statement, as prepared (exec: the script; dump: empty). */
  sql: string[];
}

/** What wraps each call: gets the call's description and a function that performs it. */
export type D1Around = <T>(call: D1CallInfo, perform: () => Promise<T>) => Promise<T>;

const INNER = Symbol("inner statement");

interface Wrapped {
  [INNER]: D1PreparedStatement;
  sql: string;
}

/**
 * A D1 binding whose every database call (prepare(...).run/all/first/raw, batch, exec, dump, and the
 * same on a session) goes through `around`. prepare() and bind() only build statements locally and
 * are passed straight through. Wrappers nest: a batch unwraps its own statements only.
 */
export function interceptD1(inner: D1Database, around: D1Around): D1Database {
  const statement = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const one = <T>(method: D1CallInfo["method"], perform: () => Promise<T>) =>
      around({ method, statements: 1, sql: [sql] }, perform);
    const wrapped = {
      [INNER]: stmt,
      sql,
      bind: (...values: unknown[]) => statement(stmt.bind(...values), sql),
      first: (column?: string) =>
        one("first", () => (column === undefined ? stmt.first() : stmt.first(column))),
      run: () => one("run", () => stmt.run()),
      all: () => one("all", () => stmt.all()),
      raw: (options?: { columnNames?: boolean }) =>
        one("raw", () => stmt.raw(options as { columnNames?: false })),
    };
    return wrapped as unknown as D1PreparedStatement;
  };
  const unwrap = (statements: D1PreparedStatement[]) => {
    const sql: string[] = [];
    const inners = statements.map((s) => {
      const w = s as unknown as Partial<Wrapped>;
      sql.push(w.sql ?? "?");
      return w[INNER] ?? s;
    });
    return { sql, inners };
  };
  const batchOf = (target: Pick<D1Database, "batch">) =>
    (<T>(statements: D1PreparedStatement[]) => {
      const { sql, inners } = unwrap(statements);
      return around({ method: "batch", statements: statements.length, sql }, () => target.batch<T>(inners));
    }) as D1Database["batch"];

  const db = {
    prepare: (sql: string) => statement(inner.prepare(sql), sql),
    batch: batchOf(inner),
    exec: (query: string) => {
      const call: D1CallInfo = { method: "exec", statements: 0, sql: [query] };
      return around(call, async () => {
        const result = await inner.exec(query);
        // exec runs a script of several statements; how many is known only from its answer.
        call.statements = result.count;
        return result;
      });
    },
    dump: () => around({ method: "dump", statements: 1, sql: [] }, () => inner.dump()),
    withSession: (constraintOrBookmark?: string) => {
      const session = inner.withSession(constraintOrBookmark);
      return {
        prepare: (sql: string) => statement(session.prepare(sql), sql),
        batch: batchOf(session),
        getBookmark: () => session.getBookmark(),
      };
    },
  };
  return db as unknown as D1Database;
}

/** Calls, sequential waves and statements over the meter's lifetime (or since its last reset). */
export interface D1Counts {
  /** Calls that went to the database: a batch is one call. */
  calls: number;
  /**
   * The longest chain of calls each started after the one before it answered: with a fixed latency
   * per call, the database part of a request costs waves x latency. Calls started together are one
   * wave; a call started once an earlier one answered is one wave after it, also while others are
   * still in flight (a sliding window of writes costs a wave per refill, not one).
   */
  waves: number;
  /** SQL statements those calls carried: a batch of N statements counts N. */
  statements: number;
}

/** One call in the order it started, with its wave (1-based): 1 + the highest wave answered before it started. */
export interface D1CallRecord extends D1CallInfo {
  wave: number;
}

export interface D1Meter {
  /** The binding to hand to the Worker instead of the real one. */
  readonly db: D1Database;
  /** Another binding (e.g. the env of a later invocation) counted by this same meter. */
  wrap(binding: D1Database): D1Database;
  counts(): D1Counts;
  /** Every call since the last reset, in start order. */
  calls(): D1CallRecord[];
  reset(): void;
}

/** Wraps `inner` in a counter of calls, waves and statements (see D1Counts). */
export function meterD1(inner: D1Database): D1Meter {
  let inFlight = 0;
  let waves = 0;
  /** The highest wave of the calls that have answered. */
  let answered = 0;
  let log: D1CallRecord[] = [];
  const around: D1Around = async (call, perform) => {
    inFlight++;
    const record: D1CallRecord = { ...call, wave: answered + 1 };
    waves = Math.max(waves, record.wave);
    log.push(record);
    try {
      return await perform();
    } finally {
      inFlight--;
      answered = Math.max(answered, record.wave);
      // exec learns its statement count from the answer.
      record.statements = call.statements;
    }
  };
  return {
    db: interceptD1(inner, around),
    wrap: (binding) => interceptD1(binding, around),
    counts: () => ({
      calls: log.length,
      waves,
      statements: log.reduce((sum, c) => sum + c.statements, 0),
    }),
    calls: () => log.map((c) => ({ ...c, sql: [...c.sql] })),
    reset: () => {
      // A call in flight would belong to a wave the reset forgot.
      if (inFlight > 0) throw new Error("meterD1: reset while D1 calls are in flight");
      waves = 0;
      answered = 0;
      log = [];
    },
  };
}

/**
 * The calls wave by wave, one line per wave, each call as its method and the start of its first
 * statement: what to read when cutting waves.
 */
export function describeWaves(calls: readonly D1CallRecord[]): string {
  const lines: string[] = [];
  let wave = 0;
  for (const c of calls) {
    if (c.wave !== wave) {
      wave = c.wave;
      lines.push(`wave ${wave}:`);
    }
    const first = (c.sql[0] ?? "").replace(/\s+/g, " ").trim().slice(0, 70);
    const more = c.sql.length > 1 ? ` (+${c.sql.length - 1} more)` : "";
    lines.push(`  ${c.method} x${c.statements}: ${first}${more}`);
  }
  return lines.join("\n");
}
