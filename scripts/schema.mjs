// Writes schema/resil.schema.json, the campaign file's JSON Schema for editors, from the built
// src/campaign/schema.ts (whose option fields come from the option tables). test/campaign/load.test.ts
// fails when the file no longer matches.
//
//   npm run schema        (builds first)
import { writeFileSync } from 'node:fs';
import { campaignSchemaText } from '../dist/campaign/schema.js';

writeFileSync(new URL('../schema/resil.schema.json', import.meta.url), campaignSchemaText());
