/** What main hands to post through the runner's state file (core.saveState / STATE_*). */
export const STATE = {
  /** Set when this job published the base from a miss: post saves it to the remote cache. */
  savedKey: 'basecow-save-key',
  base: 'basecow-base',
  cacheDir: 'basecow-cache-dir',
  remote: 'basecow-remote-cache',
  /** Set when main created a testnet: post tears it down. */
  workDir: 'basecow-work-dir',
  connect: 'basecow-connect',
  /** The lease main (or the overlay step) took on its base: post releases it. */
  leaseKey: 'basecow-lease-key',
  leaseId: 'basecow-lease-id',
  /** Post runs gc on this store with this budget (the input's text). */
  gcCacheDir: 'basecow-gc-cache-dir',
  gcBudget: 'basecow-gc-budget',
} as const;
