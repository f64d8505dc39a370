// The validators of params schemas: JSON-RPC methods' params, device actions' params (API calls,
// scenario steps) and HTTP bodies (src/host/validate.ts wraps them). Here Ajv compiles each schema
// on first use; this is what tsx and the tests run. The shipped bundle does not contain this file:
// scripts/build-agent.ts puts in its place validators Ajv generated at build time
// (scripts/ajv-standalone.ts, Ajv's `standaloneCode`) for every schema the demo agent compiles
// while it is built and started and every action of its devices, found by `paramsSchemaKey`; a
// schema the build did not see is compiled at run time there too. The agent's start then compiles
// no schema at all (docs/performance.md, "Start and idle memory: lean start").
// test/ajv-standalone.test.ts checks both answer alike. Keep the exports in step with the generated module.
import type { TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { sharedAjv } from '../util/ajv.js';

let recording: TSchema[] | null = null;

/** The validator of one params schema (Ajv keeps it by schema object: a second call is a lookup). */
export function paramsValidator(schema: TSchema): ValidateFunction {
  recording?.push(schema);
  return sharedAjv().compile(schema);
}

/** Runs `fn` and returns, with its result, every schema `paramsValidator` was asked for meanwhile (the build collects them). */
export async function recordParamsSchemas<T>(fn: () => Promise<T>): Promise<{ result: T; schemas: TSchema[] }> {
  const schemas: TSchema[] = [];
  recording = schemas;
  try {
    return { result: await fn(), schemas };
  } finally {
    recording = null;
  }
}
