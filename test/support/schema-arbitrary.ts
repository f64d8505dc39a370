// fast-check arbitraries from the JSON Schemas the agent publishes
// (docs/api.schema.json, actions.list): values meant to pass a schema, and
// values that break it. Covers the keywords TypeBox emits for the API.
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  minProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  anyOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

/** Known good values per property name (device ids, topic names…), so calls reach past the "not found" checks. */
export type Hints = Record<string, readonly string[]>;

/** Strings a careless or hostile client sends. */
const NASTY_STRINGS = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '../../etc/passwd',
  '/dev/zero',
  '\u0000',
  '\ud800',
  '😀',
  'a'.repeat(5000),
  '${HOME}',
  '%s%n',
  '2026-13-45T99:99:99Z',
  '1e309',
];
const NASTY_NUMBERS = [0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, 5e-324];

function str(s: JsonSchema, hint?: readonly string[]): fc.Arbitrary<string> {
  const plain = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
  const options: fc.Arbitrary<string>[] = [plain, fc.constantFrom(...NASTY_STRINGS)];
  if (hint?.length) options.push(fc.constantFrom(...hint), fc.constantFrom(...hint));
  return fc.oneof(...options);
}

function num(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? -1e6;
  const max = s.maximum ?? 1e6;
  const inRange = integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true });
  return fc.oneof(inRange, inRange, fc.constantFrom(min, max, min - 1, max + 1, ...NASTY_NUMBERS));
}

/** Values meant to satisfy `s` (patterns and formats are not honoured, so some do not: that is fuzzing too). */
export function validArb(s: JsonSchema, hints: Hints = {}, key = '', depth = 0): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map((x) => validArb(x, hints, key, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return str(s, hints[key]);
    case 'integer':
      return num(s, true);
    case 'number':
      return num(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = s.items ? validArb(s.items, hints, key, depth + 1) : fc.jsonValue({ maxDepth: 2 });
      const opts = { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 4)) };
      return s.uniqueItems ? fc.uniqueArray(items, { ...opts, selector: (v) => JSON.stringify(v) }) : fc.array(items, opts);
    }
    case 'object': {
      if (depth > 4) return fc.constant({});
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) shape[k] = validArb(v, hints, k, depth + 1);
      const known = fc.record(shape, { requiredKeys: [...required].filter((k) => k in props) });
      const extraSchema = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
      if (!extraSchema && (s.properties || s.additionalProperties === false)) return known;
      const extra = fc.dictionary(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')),
        extraSchema ? validArb(extraSchema, hints, key, depth + 1) : fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 4 },
      );
      return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Values that break `s`: another type altogether, a required key missing, an unknown key, a field of the wrong type. */
export function malformedArb(s: JsonSchema, hints: Hints = {}): fc.Arbitrary<unknown> {
  const anything = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(null, [], '', 0, true, [{}]));
  if (s.type !== 'object' || !s.properties) return anything;
  const valid = validArb(s, hints) as fc.Arbitrary<Record<string, unknown>>;
  const keys = Object.keys(s.properties);
  const broken: fc.Arbitrary<unknown>[] = [
    anything,
    valid.map((v) => ({ ...v, unknown_key: 1 })),
    // an own "__proto__" key, as JSON.parse makes it
    valid.map((v) => ({ ...JSON.parse('{"__proto__":{"polluted":true}}'), ...v })),
  ];
  if (keys.length) {
    broken.push(fc.tuple(valid, fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })).map(([v, k, x]) => ({ ...v, [k]: x })));
  }
  if (s.required?.length) {
    broken.push(
      fc.tuple(valid, fc.constantFrom(...s.required)).map(([v, k]) => {
        const copy = { ...v };
        delete copy[k];
        return copy;
      }),
    );
  }
  return fc.oneof(...broken);
}
