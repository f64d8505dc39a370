// The JSON Schema → TypeScript printer behind src/client/methods.ts, and the
// generated file itself: it must compile and match what the server declares.
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonSchema, clientTypesModule, toTs } from '../src/client/codegen.js';
import type { RoomAgentClient } from '../src/client/index.js';
import { ERROR_CODES as CLIENT_CODES, METHOD_ROLES } from '../src/client/methods.js';
import { ERROR_CODES } from '../src/util/errors.js';

const s = (x: unknown) => JSON.parse(JSON.stringify(x)) as JsonSchema;

describe('toTs prints the TypeScript type of a TypeBox schema', () => {
  const table: [string, unknown, string][] = [
    ['string', Type.String(), 'string'],
    ['integer', Type.Integer({ minimum: 1 }), 'number'],
    ['boolean', Type.Boolean(), 'boolean'],
    ['null', Type.Null(), 'null'],
    ['unknown', Type.Unknown(), 'unknown'],
    ['literal union', Type.Union([Type.Literal('auto'), Type.Literal('off')]), "'auto' | 'off'"],
    ['nullable', Type.Union([Type.String(), Type.Null()]), 'string | null'],
    ['array of strings', Type.Array(Type.String()), 'string[]'],
    ['array of a union', Type.Array(Type.Union([Type.String(), Type.Number()])), 'Array<string | number>'],
    ['union absorbing unknown', Type.Union([Type.String(), Type.Unknown()]), 'unknown'],
    ['empty closed object', Type.Object({}, { additionalProperties: false }), 'Record<string, never>'],
    ['empty open object', Type.Object({}), 'Record<string, unknown>'],
    ['record', Type.Record(Type.String(), Type.Number()), '{\n  [key: string]: number;\n}'],
    [
      'object with optional, default and quoted keys',
      Type.Object(
        { id: Type.String(), limit: Type.Integer({ default: 10 }), 'x-y': Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      "{\n  id: string;\n  limit?: number;\n  'x-y'?: boolean;\n}",
    ],
    ['recursive ref', { $ref: 'T0' }, 'unknown'],
    ['const number', Type.Literal(3), '3'],
  ];
  for (const [name, schema, ts] of table) {
    it(name, () => expect(toTs(s(schema)).replaceAll('"', "'")).toBe(ts));
  }

  it('documents members with their description', () => {
    const out = toTs(s(Type.Object({ at: Type.String({ description: 'ISO time */ here' }) })));
    expect(out).toContain('/** ISO time *\\/ here */');
  });

  it('never throws on arbitrary JSON-like schemas', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) toTs(v as JsonSchema);
      }),
      { numRuns: 500 },
    );
  });
});

describe('clientTypesModule', () => {
  it('prints methods with params, result and whether params may be omitted, topics, roles and error codes', () => {
    const text = clientTypesModule({
      methods: {
        'a.b': {
          role: 'viewer',
          description: 'Thing.',
          params: s(Type.Object({ id: Type.String() })),
          result: s(Type.Array(Type.String())),
        },
        'c.d': {
          role: 'operator',
          description: 'Other.',
          params: s(Type.Object({}, { additionalProperties: false })),
          result: {},
        },
      },
      topics: { things: { description: 'Pushes.', data: {} } },
      errors: { FORBIDDEN: 4003 },
    });
    expect(text).toContain(
      '"a.b": {\n    params: {\n      id: string;\n    };\n    result: string[];\n    paramsOptional: false;',
    );
    expect(text).toContain('"c.d": {\n    params: Record<string, never>;\n    result: unknown;\n    paramsOptional: true;');
    expect(text).toContain('"things": unknown;');
    expect(text).toContain('"c.d": "operator",');
    expect(text).toContain('FORBIDDEN: 4003,');
  });

  it('the committed methods.ts carries the server error codes and a role for every method', () => {
    expect(CLIENT_CODES).toEqual(ERROR_CODES);
    for (const m of [
      'system.info',
      'devices.list',
      'device.action',
      'subscribe',
      'scenarios.run',
      'director.set',
      'meetings.get',
    ]) {
      expect(METHOD_ROLES).toHaveProperty(m);
    }
    expect(METHOD_ROLES['device.action']).toBe('operator');
  });
});

// Compile-time checks of the generated map (tsc fails when a @ts-expect-error line stops being an error).
function typeChecks(c: RoomAgentClient): void {
  // @ts-expect-error devices.get needs {device}
  void c.call('devices.get');
  // @ts-expect-error unknown param
  void c.call('devices.get', { device: 'cam-1', extra: 1 });
  // @ts-expect-error director modes are auto | paused | off
  void c.call('director.set', { mode: 'manual' });
  // @ts-expect-error no such method
  void c.call('devices.delete', {});
  void c.call('devices.list').then((list) => list[0].status.restarts.toFixed());
  void c.call('meetings.events', { id: 'M-1' }); // limit has a default: optional
}
void typeChecks; // never run: `npm run typecheck` is the test
