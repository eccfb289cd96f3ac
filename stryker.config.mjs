// StrykerJS over the pure core, driven by the unit tests only: `npm run mutate` (not part of
// `npm test`: it takes tens of minutes). Survivors judged equivalent are listed in
// test/mutation/SURVIVORS.md; the HTML report is written to reports/mutation/.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @type {string[]} The pure modules mutated. To add the value codecs, add the glob
 * 'lambdas/transform/values/**\/*.ts' here (the checker already compiles them: the engines import them).
 */
const MUTATED = [
  'lambdas/shared/keys.ts',
  'lambdas/shared/messages.ts',
  'lambdas/shared/snapshots.ts',
  'lambdas/shared/config.ts',
  'lambdas/shared/sql-identifiers.ts',
  'lambdas/coordinator/plan.ts',
  'lambdas/coordinator/request.ts',
  'lambdas/transform/copy-text.ts',
  'lambdas/transform/split-name.ts',
  'lambdas/transform/split-name-transform.ts',
  'lambdas/transform/copy-transform-stream.ts',
  'lambdas/transform/decoded-engine.ts',
  'lambdas/transform/raw-engine.ts',
  'lambdas/transform/row-shape.ts',
  'lambdas/pipeline/pipeline-spec.ts',
  'lambdas/pipeline/define.ts',
  'local/progress.ts',
  'local/run-summary.ts',
  'local/cli-args.ts',
];


/**
 * Test cases skipped under Stryker (they stay in `npm test`): exhaustive sweeps — every Unicode code
 * point, every byte offset to split a stream at, hundreds of random chunkings — that take minutes under
 * its instrumentation and would run for nearly every mutant of the codec and the transform. The
 * corpus, one-byte-at-a-time and reference-agreement cases in the same files still run; skipping
 * cases can only lower the score, never raise it.
 */
const SKIPPED_UNDER_MUTATION = [
  'every Unicode code point',
  'random names over an alphabet',
  'split in two at every byte offset',
  'random chunkings of the whole corpus',
];

const unitTests = readdirSync('test/unit', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/unit/${f.replaceAll('\\', '/')}`)
  // A benchmark helper's tests: nothing they load is mutated.
  .filter((f) => !f.startsWith('test/unit/bench/'))
  .sort();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: MUTATED,
  testRunner: 'tap',
  tap: {
    testFiles: unitTests,
    // Node 22 strips the types of the mutated .ts files itself; one process per test file.
    nodeArgs: [
      '--test-reporter=tap', '--disable-warning=ExperimentalWarning',
      ...SKIPPED_UNDER_MUTATION.map((name) => `--test-skip-pattern=${name}`),
      '-r', '{{hookFile}}', '{{testFile}}',
    ],
    forceBail: true,
  },
  // Per test file: a mutant runs only the files whose run reached it.
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The checker needs TypeScript's compiler API, which TypeScript 7 does not have: see the hook.
  checkerNodeArgs: ['--import', fileURLToPath(import.meta.resolve('pg-fanout-stryker-typescript-api/hooks'))],
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
  // Copied into each sandbox: everything but what no unit test loads.
  ignorePatterns: ['/infra', '/bench', '/soak', '/localstack', '/examples', '/cdk.out', '/*.deb', '/test/integration', '/test/infra', '/reports'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
