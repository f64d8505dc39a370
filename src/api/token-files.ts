import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { TokenConfig } from '../config/schema.js';

/**
 * Resolves `token_file` entries. A missing file gets a fresh random token
 * (mode 0600), so a packaged api.toml never ships a usable default secret;
 * the log says where the token is, never the token itself.
 */
export function resolveTokenFiles(
  tokens: readonly TokenConfig[],
  baseDir: string,
  logger: Logger,
): (TokenConfig & { token: string })[] {
  return tokens.map((t) => {
    if (t.token !== undefined) return { ...t, token: t.token };
    const file = path.resolve(baseDir, t.token_file as string);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const token = randomBytes(24).toString('base64url');
      fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
      logger.warn({ token_name: t.name, role: t.role, file }, `generated a new API token "${t.name}"; read it from ${file}`);
      return { ...t, token };
    }
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new Error(`${file}: token "${t.name}" is shorter than 16 characters`);
    return { ...t, token };
  });
}
