// jest runs the TypeScript sources as native ESM (node --experimental-vm-modules), compiled by swc.
export default {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  // Sources import './x.js' (NodeNext style); map that back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // One worker per core. Jest's default keeps a core for itself: one worker on a 2-core machine, so the
  // files ran one after another and the suite took the sum of their times. Timing assertions hold with
  // another file running beside them: they allow what the machine took (test/helpers/machine.ts).
  maxWorkers: '100%',
  testTimeout: 30000,
};
