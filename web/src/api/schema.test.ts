// Every document the dashboard sends must be valid against the API's
// schema as it is in the repository, so a schema change that breaks the
// dashboard fails here rather than in front of an operator.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as queries from './queries';

const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../internal/api/graph/schema');
const sdl = readdirSync(dir).filter((f) => f.endsWith('.graphqls')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
const schema = buildSchema(sdl);

describe('queries match the schema', () => {
  const docs = Object.entries(queries).filter(([, v]) => typeof v === 'string') as [string, string][];
  it('has documents to check', () => expect(docs.length).toBeGreaterThan(30));
  it.each(docs)('%s', (_name, doc) => {
    const errors = validate(schema, parse(doc)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
