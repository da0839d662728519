#!/usr/bin/env -S node --min-semi-space-size=16
// --min-semi-space-size: a load generator allocates steadily; a full-size young generation from the
// start keeps RSS flat during a run and scavenges less often (see scripts/bench/node-flags.mjs).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
