// Generates the reference parts of the docs from the schemas in the code, so
// every config key, method and topic is documented and stays in sync:
//   docs/config-reference.md, docs/api-reference.md, docs/api.schema.json
// `npm run docs` writes them; test/docs.test.ts fails when they are stale.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse } from 'smol-toml';
import { builtinDrivers } from '../drivers/index.js';
import { Agent } from '../src/app.js';
import { ConfigSchema, DeviceCommonSchema } from '../src/config/schema.js';
import { ERROR_CODES } from '../src/util/errors.js';
import { type ApiDeclarations, clientTypesModule } from '../src/client/codegen.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  'x-secret'?: boolean;
};

function typeOf(s: Schema): string {
  if (s.anyOf) {
    const consts = s.anyOf.filter((x) => x.const !== undefined).map((x) => JSON.stringify(x.const));
    if (consts.length === s.anyOf.length) return consts.join(' \\| ');
    return s.anyOf.map(typeOf).join(' \\| ');
  }
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties) return 'table';
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function constraints(s: Schema): string {
  const c: string[] = [];
  if (s.minimum !== undefined) c.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) c.push(`≤ ${s.maximum}`);
  if (s.pattern) c.push(`pattern \`${s.pattern}\``);
  return c.join(', ');
}

function rows(s: Schema, prefix: string, out: string[]): void {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const key = `${prefix}${k}`;
    const req = s.required?.includes(k) && v.default === undefined ? 'yes' : '';
    const dflt = v.default !== undefined ? `\`${JSON.stringify(v.default)}\`` : '';
    const secret = v['x-secret'] === true ? '**Secret**: never shown in errors, logs or config.get (docs/security.md).' : '';
    const desc = [v.description ?? '', constraints(v), secret]
      .filter(Boolean)
      .join(' ')
      .replaceAll('|', '\\|')
      .replaceAll('\n', ' ');
    out.push(`| \`${key}\` | ${typeOf(v)} | ${req} | ${dflt} | ${desc} |`);
    if (v.type === 'object' && v.properties) rows(v, `${key}.`, out);
    if (v.type === 'array' && v.items?.properties) rows(v.items, `${key}[].`, out);
    const rec = v.patternProperties ? Object.values(v.patternProperties)[0] : undefined;
    if (rec?.properties) rows(rec, `${key}.<name>.`, out);
  }
}

const HEADER = '| key | type | required | default | meaning |\n|---|---|---|---|---|';

export function configReference(): string {
  const top = ConfigSchema as unknown as Schema;
  const parts = [
    '# api.toml reference (generated)',
    '',
    'Generated from the schemas in the code by `npm run docs`; do not edit by hand. See docs/config.md for how the file works.',
    '',
  ];
  for (const [section, schema] of Object.entries(top.properties ?? {})) {
    if (section === 'devices') continue;
    const out: string[] = [];
    rows({ properties: { [section]: schema } } as Schema, '', out);
    parts.push(`## [${section}]`, '', schema.description ?? '', '', HEADER, ...out, '');
  }
  const common: string[] = [];
  rows(DeviceCommonSchema as unknown as Schema, '', common);
  parts.push('## [devices.<id>] — keys of every device', '', HEADER, ...common, '');
  for (const d of [...builtinDrivers].sort((a, b) => a.name.localeCompare(b.name))) {
    const out: string[] = [];
    rows(d.config as unknown as Schema, '', out);
    parts.push(
      `### driver = "${d.name}" (${d.kind})`,
      '',
      `${d.description}${d.simulate ? ' Has a simulator (`simulated = true`).' : ''} See docs/drivers/${d.name}.md.`,
      '',
      HEADER,
      ...out,
      '',
    );
  }
  return `${parts
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/**
 * Sections that switch on the features the demo room (api.toml) leaves off, so the method table,
 * api.schema.json (which the API fuzz suite drives) and the client types hold every method and
 * topic whatever the demo enables. Only the sections api.toml lacks are added; nothing connects
 * (the agent is constructed, never started).
 */
const EVERY_FEATURE_ON: Record<string, string> = {
  mqtt: '[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n',
  alerts: '[alerts]\n',
  tracking: '[tracking]\n',
  identity: '[identity]\n',
  twilio:
    '[twilio]\naccount_sid = "AC00000000000000000000000000000000"\nauth_token = "not-a-token-docs-only"\nfrom = "+15005550006"\npublic_url = "https://room.example.com"\n',
  video: '[video]\ngo2rtc = "/nonexistent/go2rtc"\n',
};

/** The demo room's text with every feature on (see EVERY_FEATURE_ON). */
export function everyFeatureConfig(): string {
  const demo = fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8');
  const have = parse(demo) as Record<string, unknown>;
  const added = Object.entries(EVERY_FEATURE_ON).filter(([section]) => !Object.hasOwn(have, section));
  return `${demo}\n# --- added by scripts/gen-docs.ts: every feature on\n${added.map(([, text]) => text).join('\n')}`;
}

export function apiDescription(): { markdown: string; schema: object } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-docs-'));
  const configFile = path.join(dir, 'api.toml');
  fs.writeFileSync(configFile, everyFeatureConfig());
  const agent = new Agent({ configFile, dataDir: dir, logger: pino({ level: 'silent' }) });
  const off = agent.features.offFactories();
  if (off.length) {
    agent.store.close();
    throw new Error(
      `gen-docs: features still off with every section on: ${off.join(', ')}; add their sections to EVERY_FEATURE_ON`,
    );
  }
  const methods = agent.rpc.listMethods().sort((a, b) => a.name.localeCompare(b.name));
  const topics = agent.rpc.listTopics().sort((a, b) => a.name.localeCompare(b.name));
  agent.store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const md = [
    '# WebSocket API reference (generated)',
    '',
    'Generated from the method and topic declarations in the code by `npm run docs`; do not edit by hand.',
    'See docs/api.md for the protocol, authentication and error handling. Machine-readable: docs/api.schema.json.',
    '',
    '## Methods',
    '',
    '| method | role | description |',
    '|---|---|---|',
    ...methods.map((m) => `| \`${m.name}\` | ${m.role} | ${m.description.replaceAll('|', '\\|')} |`),
    '',
    ...methods.flatMap((m) => [
      `### ${m.name}`,
      '',
      `Role: **${m.role}**. ${m.description}`,
      '',
      'Params:',
      '',
      '```json',
      JSON.stringify(m.params, null, 2),
      '```',
      ...(m.result ? ['', 'Result:', '', '```json', JSON.stringify(m.result, null, 2), '```'] : []),
      '',
    ]),
    '## Topics',
    '',
    '| topic | pushes |',
    '|---|---|',
    ...topics.map((t) => `| \`${t.name}\` | ${t.description.replaceAll('|', '\\|')} |`),
    '',
    '## Error codes',
    '',
    '| name | code |',
    '|---|---|',
    ...Object.entries(ERROR_CODES).map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ].join('\n');
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'room-agent WebSocket JSON-RPC API',
    version: agent.ctx.version,
    methods: Object.fromEntries(
      methods.map((m) => [m.name, { role: m.role, description: m.description, params: m.params, result: m.result ?? {} }]),
    ),
    topics: Object.fromEntries(topics.map((t) => [t.name, { description: t.description, data: t.data ?? {} }])),
    errors: ERROR_CODES,
  };
  return { markdown: md, schema: JSON.parse(JSON.stringify(schema)) };
}

/** Generated TypeScript goes through the project's formatter, so it passes `biome check` as written. */
function formatTs(rel: string, text: string): string {
  const biome = path.join(ROOT, 'node_modules', '.bin', 'biome');
  return execFileSync(biome, ['format', `--stdin-file-path=${rel}`], { cwd: ROOT, input: text, encoding: 'utf8' });
}

export function generatedDocs(): Record<string, string> {
  const api = apiDescription();
  return {
    'docs/config-reference.md': configReference(),
    'docs/api-reference.md': api.markdown,
    'docs/api.schema.json': `${JSON.stringify(api.schema, null, 2)}\n`,
    'src/client/methods.ts': formatTs('src/client/methods.ts', clientTypesModule(api.schema as ApiDeclarations)),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const [rel, text] of Object.entries(generatedDocs())) {
    fs.writeFileSync(path.join(ROOT, rel), text);
    console.log(`wrote ${rel}`);
  }
}
