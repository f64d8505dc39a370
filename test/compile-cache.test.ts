// Where `room-agent start` keeps Node's compile cache (src/util/compile-cache.ts):
// <data_dir>/compile-cache, data_dir read the way the agent reads it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../src/util/compile-cache.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

describe('compileCacheDir', () => {
  const rel = write('rel.toml', '[agent]\nroom_id = "r"\ndata_dir = "state"\n');
  const abs = write('abs.toml', '[agent]\ndata_dir = "/var/lib/room-agent"\n');
  const none = write('none.toml', '[agent]\nroom_id = "r"\n');
  const env = write('env.toml', '[agent]\ndata_dir = "${ROOM_DATA}/x"\n');

  it('is data_dir/compile-cache, data_dir relative to the config file folder (as the agent resolves it)', () => {
    expect(compileCacheDir(['start', '--config', rel], {})).toBe(path.join(dir, 'state', 'compile-cache'));
    expect(compileCacheDir(['start', '-c', abs], {})).toBe('/var/lib/room-agent/compile-cache');
    expect(compileCacheDir(['start', `--config=${none}`], {})).toBe(path.join(dir, 'data', 'compile-cache'));
    expect(compileCacheDir(['start'], { ROOM_AGENT_CONFIG: abs })).toBe('/var/lib/room-agent/compile-cache');
  });

  it('substitutes ${ENV} and stays off when the variable is unset', () => {
    expect(compileCacheDir(['start', '--config', env], { ROOM_DATA: '/srv' })).toBe('/srv/x/compile-cache');
    expect(compileCacheDir(['start', '--config', env], {})).toBeNull();
  });

  it('stays off for other commands and for a config it cannot read (the agent reports those)', () => {
    expect(compileCacheDir(['check-config', rel], {})).toBeNull();
    expect(compileCacheDir(['start', '--config', path.join(dir, 'missing.toml')], {})).toBeNull();
    expect(compileCacheDir(['start', '--config', write('bad.toml', '[agent\n')], {})).toBeNull();
    expect(compileCacheDir(['start', '--config', write('num.toml', '[agent]\ndata_dir = 3\n')], {})).toBeNull();
  });
});
