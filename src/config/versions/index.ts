// Versioned config, wired into the agent: the service, its methods, and the
// adapter through which SIGHUP and the file watch (hot reload) apply a file
// they read, so that every running config is a stored version.
import { AgentError } from '../../util/errors.js';
import { ConfigError, type ConfigIssue, type LoadedConfig } from '../load.js';
import type { ReloadCauseLike, ReloadReportLike } from './host.js';
import { registerConfigMethods } from './methods.js';
import { ConfigVersions, type ConfigVersionsOptions } from './service.js';
import type { RpcRegistry } from '../../api/rpc.js';

export { ConfigVersions } from './service.js';
export type { ApplyRequest, ApplyResult } from './service.js';

export function createConfigVersions(o: ConfigVersionsOptions & { rpc: RpcRegistry }): ConfigVersions {
  const versions = new ConfigVersions(o);
  registerConfigMethods(o.rpc, versions);
  return versions;
}

/**
 * What the file watch and SIGHUP call with a text they read and validated: the same apply path as
 * config.apply (stored, health-gated), without writing the file it came from. A refusal is a
 * ConfigError, as the reloader expects. When nothing was applied (the text is already running, or
 * the file changed again meanwhile), the report is that of a reload to the running config.
 */
export function diskApplier<R extends ReloadReportLike>(
  versions: ConfigVersions,
  reload: (next: LoadedConfig, cause: ReloadCauseLike) => Promise<R>,
  running: () => LoadedConfig,
): (text: string, next: LoadedConfig, cause: ReloadCauseLike) => Promise<R> {
  return async (text, _next, cause) => {
    const from = cause.from === 'sighup' ? 'sighup' : 'file';
    try {
      const r = await versions.apply({
        toml: text,
        why: `${from === 'sighup' ? 'SIGHUP' : 'file changed'}: read from ${versions.file}`,
        who: from,
        from,
        writeFile: false,
      });
      if (r.reload && r.outcome !== 'unchanged') return r.reload as R;
    } catch (e) {
      const issues = e instanceof AgentError ? (e.data as { issues?: ConfigIssue[] } | undefined)?.issues : undefined;
      if (issues) throw new ConfigError(issues);
      throw e;
    }
    return reload(running(), cause);
  };
}
