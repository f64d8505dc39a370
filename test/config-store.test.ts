// The config history's SQLite table and the atomic file write (issue 21 item 1), on real files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configVersion } from '../src/config/load.js';
import { removeStaleTempFiles, writeFileAtomic } from '../src/config/versions/atomic-write.js';
import { ConfigVersionStore } from '../src/config/versions/store.js';
import { Store } from '../src/store/db.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'config-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('atomic write', () => {
  it('replaces the file, keeps its mode, leaves no temporary file', () => {
    const dir = tmp();
    const file = path.join(dir, 'api.toml');
    fs.writeFileSync(file, 'old = 1\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    writeFileAtomic(file, 'new = 2\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('new = 2\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['api.toml']);
  });

  it('a new file gets 0640', () => {
    const file = path.join(tmp(), 'api.toml');
    writeFileAtomic(file, 'a = 1\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  it('a failed write leaves the old file and no temporary file', () => {
    const dir = tmp();
    const file = path.join(dir, 'api.toml');
    fs.writeFileSync(file, 'old = 1\n');
    // A directory in the way of the rename: rename(file-over-directory) fails with EISDIR.
    const blocked = path.join(dir, 'blocked.toml');
    fs.mkdirSync(blocked);
    expect(() => writeFileAtomic(blocked, 'x = 1\n')).toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['api.toml', 'blocked.toml']);
    expect(fs.readFileSync(file, 'utf8')).toBe('old = 1\n');
  });

  it('stale temporary files of a killed writer are removed, other files are not', () => {
    const dir = tmp();
    const file = path.join(dir, 'api.toml');
    fs.writeFileSync(file, 'a = 1\n');
    fs.writeFileSync(path.join(dir, '.api.toml.4242.7.tmp'), 'torn');
    fs.writeFileSync(path.join(dir, 'api.toml.dpkg-dist'), 'packaged');
    fs.writeFileSync(path.join(dir, '.other.toml.1.1.tmp'), 'not ours');
    expect(removeStaleTempFiles(file)).toEqual(['.api.toml.4242.7.tmp']);
    expect(fs.readdirSync(dir).sort()).toEqual(['.other.toml.1.1.tmp', 'api.toml', 'api.toml.dpkg-dist']);
  });
});

describe('config history store', () => {
  it('appends rows with version and hash, lists newest first, survives reopening', () => {
    const dbFile = path.join(tmp(), 'room-agent.db');
    let store = new Store(dbFile);
    let h = new ConfigVersionStore(store);
    const a = h.insert({
      text: 'a = 1\n',
      who: 'file',
      why: 'start',
      from: 'file',
      action: 'start',
      base_version: null,
      outcome: 'running',
    });
    const b = h.insert({
      text: 'a = 2\n',
      who: 'admin',
      why: 'more',
      from: 'ws',
      action: 'apply',
      base_version: a.version,
      outcome: 'applying',
    });
    expect(a.version).toBe(configVersion('a = 1\n'));
    expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.sha256.slice(0, 16)).toBe(b.version.slice('sha256:'.length));
    store.close();
    store = new Store(dbFile);
    h = new ConfigVersionStore(store);
    expect(h.list().map((r) => [r.id, r.outcome])).toEqual([
      [b.id, 'applying'],
      [a.id, 'running'],
    ]);
    h.closeOpenRows('cut off');
    expect(h.get(b.id)).toMatchObject({ outcome: 'interrupted', detail: 'cut off' });
    expect(h.byVersion(a.version)?.id).toBe(a.id);
    store.close();
  });

  it('prunes to the newest rows but keeps every row of a protected version', () => {
    const store = new Store(path.join(tmp(), 'room-agent.db'));
    const h = new ConfigVersionStore(store);
    const first = h.insert({
      text: 'keep = 1\n',
      who: 'f',
      why: 'w',
      from: 'file',
      action: 'start',
      base_version: null,
      outcome: 'running',
    });
    for (let i = 0; i < 20; i++) {
      h.insert({ text: `n = ${i}\n`, who: 'f', why: 'w', from: 'ws', action: 'apply', base_version: null, outcome: 'replaced' });
    }
    expect(h.prune(10, [first.version])).toBe(10);
    expect(h.count()).toBe(11);
    expect(h.byVersion(first.version)).toBeDefined();
    store.close();
  });
});
