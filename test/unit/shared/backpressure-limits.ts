// The documented limits of each backpressure setting (README "Settings"), written once for the
// config unit tests: [setting, smallest, largest].
import type { BackpressureConfig } from '../../../lambdas/shared/config.ts';

export const BACKPRESSURE_LIMITS: readonly [keyof BackpressureConfig, number, number][] = [
  ['chunkRows', 1, 100_000_000],
  ['batchSize', 1, 10_000],
  ['maxBatchingWindowSeconds', 0, 300],
  ['reservedConcurrency', 2, 1000],
  ['maxConcurrency', 2, 1000],
  ['workerTimeoutSeconds', 1, 900],
  ['visibilityTimeoutSeconds', 0, 43_200],
  ['maxReceiveCount', 5, 1000],
];
