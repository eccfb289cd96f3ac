// Loaded with --import into StrykerJS's processes (`npm run mutate`, and its checker processes via
// checkerNodeArgs): @stryker-mutator/core (to rewrite tsconfig files in its sandboxes) and
// @stryker-mutator/typescript-checker import `typescript` for its compiler API, which TypeScript 7
// (the project's tsc) no longer has. Their imports of `typescript`, and only theirs, resolve to the
// TypeScript 5 installed beside this file instead.
import { registerHooks } from 'node:module';

const typescript5 = import.meta.resolve('typescript');

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/@stryker-mutator/')) {
      return { url: typescript5, format: 'commonjs', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});
