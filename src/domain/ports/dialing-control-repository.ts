/**
 * The statements behind pause, resume and cancel that span several tables. Cancelling is one atomic
 * batch, so an import is never left half cancelled.
 */
export interface DialingControlRepository {
  /**
   * The campaign's imports that are not cancelled and still have work: a call that is not final, an
   * outbox batch not finished, or a workflow run not finished.
   */
  unfinishedImportsOfCampaign(campaignPk: number): Promise<string[]>;
  /**
   * Cancels these imports for good, atomically: each becomes `cancelled` (`cancelledAt` = at), the
   * customers of their unfinished call batches get their call rows (origin `callOrigin`), every
   * claimable call becomes `cancelled` (a live claim is left to finish), the runs of their unfinished
   * workflow batches get their rows, every run not finished ends as completed with outcome
   * `cancelled`, and their unfinished outbox batches become done. Returns the imports that were not
   * cancelled before, and how many calls and runs this cancelled.
   */
  cancelImports(
    importIds: readonly string[],
    options: { at: number; leaseExpiredBefore: number; callOrigin: string },
  ): Promise<{ importIds: string[]; calls: number; runs: number }>;
}
