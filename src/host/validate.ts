import type { TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { AgentError } from '../util/errors.js';
import { describeAjvError } from '../util/ajv.js';
import { paramsValidator } from './params-validators.js';

export type ParamsValidator = (params: unknown) => unknown;

/**
 * The data context of a top-level validation, passed explicitly: a validator called without
 * one makes an empty object per call for its destructuring default (every API call and device
 * action validates twice). Empty means what no argument means; validators never write to it.
 */
const TOP_LEVEL = Object.freeze({}) as Parameters<ValidateFunction>[1];

/**
 * Compiles a params schema once; the validator returns the params with
 * defaults applied. By default it works on a copy (a scenario's params are
 * reused run after run); `inPlace` skips the copy for params the caller owns
 * (a freshly parsed JSON-RPC message).
 */
export function compileParams(label: string, schema: TSchema, opts: { inPlace?: boolean } = {}): ParamsValidator {
  const fn = paramsValidator(schema);
  return (params: unknown) => {
    // Params are JSON (from the API, MQTT or a TOML file): a JSON copy is enough and cheap.
    const copy = params === undefined ? {} : opts.inPlace ? params : JSON.parse(JSON.stringify(params));
    if (!fn(copy, TOP_LEVEL)) {
      const msgs = (fn.errors ?? []).map((e) => describeAjvError(e));
      throw new AgentError('INVALID_PARAMS', `${label}: ${msgs.join('; ')}`, { errors: msgs });
    }
    return copy;
  };
}
