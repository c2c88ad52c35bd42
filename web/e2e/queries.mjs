// The dashboard's topology query, for the benchmark (kept in step with src/api/queries.ts by the test below).
import { readFileSync } from 'node:fs';
const src = readFileSync(new URL('../src/api/queries.ts', import.meta.url), 'utf8');
const fields = /const PATH_FIELDS = `([^`]*)`/.exec(src)[1];
const topo = /export const TOPOLOGY = `([^`]*)`/.exec(src)[1];
export const TOPOLOGY = topo.replace('${PATH_FIELDS}', fields);
