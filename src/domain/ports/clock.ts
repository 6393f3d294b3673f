// The clock the business rules read, passed in by src/deps.ts (or pinned by a test).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
