import { availableParallelism } from 'node:os';

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
  // One worker more than there are cores. Jest's default is one fewer: one worker on a 2-core machine,
  // so the files ran one after another and the suite took the sum of their times. About a third of a
  // file's time is waiting (timers, sockets, spawned CLIs), so one extra worker keeps the cores busy:
  // on 2 cores with one kept busy, 2 workers took 108-116 s, 3 took 93-101 s. Timing assertions hold
  // with other files running beside them: they allow what the machine took (test/helpers/machine.ts).
  maxWorkers: availableParallelism() + 1,
  testTimeout: 30000,
};
