// The video feature: generates go2rtc's config from [video], supervises the
// process, proxies the three viewing endpoints, lists streams without
// credentials, and links recorder devices to meetings and the director.
import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { findExecutable } from '../../drivers/recorder/binaries.js';
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import { formatIssue } from '../config/load.js';
import { AgentError } from '../util/errors.js';
import { httpRequest } from '../transport/http-client.js';
import { buildGo2rtcConfig, redactUrl, renderGo2rtcYaml, streamsFromConfig, type VideoStream } from './go2rtc-config.js';
import { registerVideoProxy } from './proxy.js';
import { RecorderLink } from './recorder-link.js';
import type { CameraStreams, VideoSection } from './schema.js';
import { Go2rtcSupervisor, type SupervisorStatus } from './supervisor.js';

export type VideoState = 'unavailable' | SupervisorStatus['state'];

export interface VideoStatus extends Omit<SupervisorStatus, 'state'> {
  state: VideoState;
  binary: string;
  api_port: number;
  rtsp_port: number;
  streams: number;
}

export interface PublicStream {
  name: string;
  camera: string;
  kind: 'main' | 'sub';
  /** Source URL without user, password or secret query params. */
  source: string;
  /** RTSP restream on the agent's machine (for the recorder). */
  restream: string;
  /** Live counts from go2rtc when it is running. */
  producers?: number;
  consumers?: number;
}

/** Where the binary is, or why it cannot be used ("checked <path>"). */
function resolveBinary(bin: string): { path: string } | { missing: string } {
  const found = findExecutable(bin);
  if ('path' in found) return found;
  if (bin.includes('/')) {
    const at = found.checked[0];
    return { missing: `go2rtc binary ${fs.existsSync(at) ? 'is not executable' : 'not found'} at ${at} (set [video] go2rtc)` };
  }
  return {
    missing: `go2rtc binary "${bin}" not found on PATH (checked ${found.checked.length} directories; set [video] go2rtc)`,
  };
}

export class VideoFeature implements Feature {
  readonly name = 'video';
  private streams: VideoStream[] = [];
  private supervisor: Go2rtcSupervisor | null = null;
  private unavailable: string | null = null;
  private readonly configFile: string;
  private readonly link: RecorderLink;

  constructor(
    private readonly ctx: AgentContext,
    private readonly video: VideoSection | null,
  ) {
    this.link = new RecorderLink(ctx);
    this.configFile = path.join(
      video?.config_dir ? path.resolve(ctx.dataDir, video.config_dir) : path.join(ctx.dataDir, 'video'),
      'go2rtc.yaml',
    );
    if (!video) return;
    this.streams = streamsFromConfig(video.streams, (id) => this.cameraEnabled(id));
    this.registerApi();
    registerVideoProxy(
      ctx.http,
      ctx.auth,
      {
        upstream: () => {
          const st = this.status();
          return st.state === 'running' ? { port: video.api_port } : { unavailable: `${st.state}: ${st.message}` };
        },
        hasStream: (name) => this.streams.some((s) => s.name === name),
      },
      ctx.logger.child({ mod: 'video-proxy' }),
      video.max_body_bytes,
    );
  }

  /** Recorders that should be recording now: they follow a meeting that runs (for /metrics). */
  recordersInMeeting(): string[] {
    return this.link.inMeeting();
  }

  async start(): Promise<void> {
    this.link.start();
    if (!this.video) return;
    const v = this.video;
    for (const id of Object.keys(v.streams)) {
      if (!this.ctx.config.devices[id])
        this.ctx.logger.warn({ camera: id }, '[video.streams] names a camera that is not a device');
    }
    const bin = resolveBinary(v.go2rtc);
    if ('missing' in bin) {
      this.unavailable = bin.missing;
      this.ctx.logger.warn({ reason: bin.missing }, 'video unavailable; the rest of the agent runs');
      this.publishStatus();
      return;
    }
    this.writeConfig();
    this.supervisor = new Go2rtcSupervisor({
      binary: bin.path,
      args: ['-c', this.configFile],
      apiPort: v.api_port,
      ports: [v.api_port, v.rtsp_port],
      healthIntervalMs: v.health_interval_ms,
      healthTimeoutMs: v.health_timeout_ms,
      healthMisses: v.health_misses,
      readyTimeoutMs: v.ready_timeout_ms,
      stopGraceMs: v.stop_grace_ms,
      rssLimitBytes: v.rss_limit_mb * 1024 * 1024,
      restartMinMs: v.restart_min_ms,
      restartMaxMs: v.restart_max_ms,
      logger: this.ctx.logger.child({ mod: 'go2rtc' }),
      clock: this.ctx.clock,
      pidFile: path.join(path.dirname(this.configFile), 'go2rtc.pid'),
      onStatus: () => this.publishStatus(),
    });
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
    await this.supervisor?.stop();
  }

  /**
   * New camera streams (e.g. after a config reload): rewrite go2rtc's config
   * and restart it. Streams are never added through go2rtc's own API (B.8).
   */
  async setStreams(streams: Record<string, CameraStreams>): Promise<boolean> {
    if (!this.video) throw new AgentError('UNAVAILABLE', 'no [video] section');
    const next = streamsFromConfig(streams, (id) => this.cameraEnabled(id));
    if (JSON.stringify(next) === JSON.stringify(this.streams)) return false;
    this.streams = next;
    this.ctx.bus.publish('video.streams', this.publicStreams());
    if (!this.supervisor) return true;
    this.writeConfig();
    await this.supervisor.restart('camera list changed');
    return true;
  }

  status(): VideoStatus {
    const v = this.video!;
    const base = {
      binary: v.go2rtc,
      api_port: v.api_port,
      rtsp_port: v.rtsp_port,
      streams: this.streams.length,
    };
    if (this.unavailable !== null || !this.supervisor) {
      // `unavailable` means a missing binary; before the feature has started
      // (the API answers while devices and earlier features start) it is `starting`.
      return {
        state: this.unavailable !== null ? 'unavailable' : 'starting',
        message: this.unavailable ?? 'video starting with the agent (go2rtc not launched yet)',
        since: this.ctx.startedAt,
        pid: null,
        version: null,
        restarts: 0,
        last_exit: null,
        ...base,
      };
    }
    return { ...this.supervisor.status(), ...base };
  }

  publicStreams(): PublicStream[] {
    const port = this.video?.rtsp_port ?? 0;
    return this.streams.map((s) => ({
      name: s.name,
      camera: s.camera,
      kind: s.kind,
      source: redactUrl(s.url),
      restream: `rtsp://127.0.0.1:${port}/${s.name}`,
    }));
  }

  /** Public list plus go2rtc's live producer/consumer counts when it answers. */
  async liveStreams(): Promise<PublicStream[]> {
    const list = this.publicStreams();
    if (this.status().state !== 'running') return list;
    try {
      const res = await httpRequest(`http://127.0.0.1:${this.video!.api_port}/api/streams`, { timeoutMs: 3000 });
      const live = res.json() as Record<string, { producers?: unknown[]; consumers?: unknown[] } | null>;
      return list.map((s) => {
        const l = live[s.name];
        return l ? { ...s, producers: l.producers?.length ?? 0, consumers: l.consumers?.length ?? 0 } : s;
      });
    } catch {
      return list;
    }
  }

  private cameraEnabled(id: string): boolean {
    return this.ctx.config.devices[id]?.enabled !== false;
  }

  private writeConfig(): void {
    const yaml = renderGo2rtcYaml(buildGo2rtcConfig({ video: this.video!, streams: this.streams }));
    fs.mkdirSync(path.dirname(this.configFile), { recursive: true });
    // The file holds camera passwords: owner-only, replaced atomically.
    const tmp = `${this.configFile}.tmp`;
    fs.writeFileSync(tmp, yaml, { mode: 0o600 });
    fs.renameSync(tmp, this.configFile);
  }

  private publishStatus(): void {
    this.ctx.bus.publish('video.status', this.status());
  }

  private registerApi(): void {
    const { rpc } = this.ctx;
    rpc.method({
      name: 'video.status',
      description:
        'State of the embedded go2rtc: unavailable (binary missing, with the reason), starting, running, unresponsive (a liveness probe missed; the proxy answers 503), restarting, error, stopped.',
      role: 'viewer',
      params: Type.Object({}, { additionalProperties: false }),
      handler: () => this.status(),
    });
    rpc.method({
      name: 'video.streams',
      description: 'Camera streams the Coordinator may watch (credentials removed), with live go2rtc counts.',
      role: 'viewer',
      params: Type.Object({}, { additionalProperties: false }),
      handler: () => this.liveStreams(),
    });
    rpc.method({
      name: 'video.reload',
      description:
        "Re-read api.toml and apply it like SIGHUP (stored as a config version; only what changed restarts). When [video] changed, go2rtc's config is rewritten and go2rtc restarted.",
      role: 'admin',
      params: Type.Object({}, { additionalProperties: false }),
      handler: async () => {
        const out = await this.ctx.reloadConfigFile();
        if (out.status === 'refused') {
          throw new AgentError('INVALID_PARAMS', `config not reloaded: ${out.issues.map(formatIssue).join('; ')}`);
        }
        if (out.status === 'failed') throw new AgentError('UNAVAILABLE', `config not reloaded: ${out.error}`);
        // The instance running now: a change of [video] replaced this one.
        const now = this.ctx.feature<VideoFeature>('video');
        if (!now?.video)
          throw new AgentError('INVALID_PARAMS', `config reloaded, but ${this.ctx.loaded.file} has no [video] section`);
        const changed = out.status === 'applied' && out.report.features.restarted.includes('video');
        return { changed, streams: now.publicStreams() };
      },
    });
    rpc.topic({ name: 'video.status', description: 'Video (go2rtc) state changes.', snapshot: () => this.status() });
    rpc.topic({
      name: 'video.streams',
      description: 'The watchable streams (credentials removed).',
      snapshot: () => this.publicStreams(),
    });
  }
}

export const createVideo: FeatureFactory = (ctx) => {
  const video = (ctx.config as { video?: VideoSection }).video ?? null;
  const hasRecorder = Object.values(ctx.config.devices).some((d) => d.driver === 'recorder');
  if (!video && !hasRecorder) return null;
  return new VideoFeature(ctx, video);
};
