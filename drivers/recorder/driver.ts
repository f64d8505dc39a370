import fs from 'node:fs';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { findExecutable } from './binaries.js';
import { Graphics, renderPreview } from './graphics.js';
import { type ImageLimits, imageFromBase64, imageFromPath } from './image-source.js';
import { RecordingIndex } from './index-db.js';
import { OutageWatch } from './outage.js';
import {
  dateFolder,
  type InputSpec,
  isFilterSafePath,
  planDeletions,
  previewArgs,
  recordArgs,
  sessionIdFor,
} from './protocol.js';
import { killStaleFfmpeg, recoverSegment, SegmentedRecording } from './recording.js';
import { GraphicParams, type RecorderConfigSchema } from './schema.js';

type RecorderConfig = Static<typeof RecorderConfigSchema>;

interface Session {
  key: string;
  id: string;
  meetingId: string | null;
  title: string | null;
  startedAt: string;
  rec: SegmentedRecording;
}

/** mkdir -p that returns the folders it created (outermost first), so a failed start can remove them. */
function mkdirsRecorded(dir: string): string[] {
  const created: string[] = [];
  let d = dir;
  while (!fs.existsSync(d)) {
    created.unshift(d);
    d = path.dirname(d);
  }
  fs.mkdirSync(dir, { recursive: true });
  return created;
}

export interface RecorderDeps {
  /** Free space of a directory (tests replace it to simulate a filling disk). */
  statfs(dir: string): { bavail: number; bsize: number };
}

const realDeps: RecorderDeps = { statfs: (dir) => fs.statfsSync(dir) };

export function createRecorder(config: RecorderConfig, ctx: DriverContext, deps: RecorderDeps = realDeps): DeviceInstance {
  const root = config.output_dir ? path.resolve(config.output_dir) : path.resolve(ctx.dataDir, '..', '..', 'recordings');
  const pidFile = path.join(ctx.dataDir, 'ffmpeg.pid');
  let ffmpeg = config.ffmpeg;
  let ffprobe = config.ffprobe;
  let index: RecordingIndex | null = null;
  let graphics: Graphics | null = null;
  let session: Session | null = null;
  let diskTimer: TimerHandle | null = null;
  let freeBytes: number | null = null;
  let alert: string | null = null;
  let stopped = false;
  const minFree = config.min_free_mb * 1024 * 1024;
  const style = { font: config.font };
  const imageLimits: ImageLimits = {
    dir: path.resolve(ctx.dataDir, '..', '..', config.image_dir ?? 'graphics'),
    maxBytes: config.image_max_bytes,
  };
  const input: InputSpec = {
    url: config.input,
    format: config.input_format,
    realtime: config.realtime ?? (config.input_format === 'lavfi' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(config.input)),
  };

  const status = () => {
    const s = session;
    const rows = s && index ? index.segments({ session: s.key }) : [];
    return {
      recording: s !== null,
      session: s?.id ?? null,
      meeting_id: s?.meetingId ?? null,
      title: s?.title ?? null,
      stream: config.stream,
      started_at: s?.startedAt ?? null,
      directory: s ? path.join(root, s.key) : null,
      segment: s?.rec.currentSegment ?? null,
      segments: rows.length,
      bytes: rows.reduce((n, r) => n + r.bytes, 0),
      gaps: s?.rec.gaps ?? 0,
      last_gap: s?.rec.lastGap ?? null,
      restarts: s?.rec.restarts ?? 0,
      free_bytes: freeBytes,
      alert,
      layers: graphics?.layers() ?? null,
      output_dir: root,
    };
  };

  const publish = () => {
    const st = status();
    ctx.setState({
      recording: st.recording,
      session: st.session,
      meeting_id: st.meeting_id,
      segment: st.segment,
      gaps: st.gaps,
      restarts: st.restarts,
      alert: st.alert,
      free_mb: freeBytes === null ? null : Math.floor(freeBytes / 1048576),
      layers: st.layers,
    });
  };

  const outage = new OutageWatch(ctx.clock, config.not_recording_alert_s, ctx.logger, {
    alert: (data) => ctx.emit({ type: 'recorder.alert', data }),
    resumed: (data) => ctx.emit({ type: 'recorder.resumed', data }),
  });

  const raiseAlert = (reason: string) => {
    alert = reason;
    ctx.reportError(reason);
    ctx.emit({ type: 'recorder.alert', data: { reason, free_bytes: freeBytes } });
    publish();
  };

  const stopSession = async () => {
    const s = session;
    if (!s) return null;
    await s.rec.stop();
    session = null;
    outage.reset();
    index?.closeSession(s.key, new Date(ctx.clock.now()).toISOString());
    const result = {
      session: s.id,
      directory: path.join(root, s.key),
      segments: index?.segments({ session: s.key }) ?? [],
      gaps: index?.gaps(s.key) ?? [],
    };
    ctx.emit({ type: 'recorder.stopped', data: { session: s.id, meeting_id: s.meetingId, segments: result.segments.length } });
    publish();
    return result;
  };

  /** Frees space (retention) and stops the recording when the disk stays below the minimum. */
  const diskGuard = async (): Promise<boolean> => {
    if (!index) return true;
    fs.mkdirSync(root, { recursive: true });
    const st = deps.statfs(root);
    freeBytes = st.bavail * st.bsize;
    const active = session?.rec.currentSegment;
    const plan = planDeletions(
      index.allSegments().map((r) => ({
        id: r.id,
        path: r.path,
        bytes: r.bytes,
        startMs: Date.parse(r.start),
        active: r.state === 'recording' || r.path === active,
      })),
      { freeBytes, minFreeBytes: minFree, nowMs: ctx.clock.now(), retentionDays: config.retention_days },
    );
    for (const r of plan.remove) {
      fs.rmSync(path.join(root, r.path), { force: true });
      index.deleteSegment(r.id);
      ctx.logger.info({ file: r.path }, 'recording deleted (retention)');
    }
    if (plan.remove.length > 0) {
      const after = deps.statfs(root);
      freeBytes = after.bavail * after.bsize;
    }
    if (freeBytes < minFree) {
      const reason = `free space ${Math.floor(freeBytes / 1048576)} MB below the ${config.min_free_mb} MB minimum on ${root}`;
      if (session) {
        await stopSession();
        raiseAlert(`${reason}; recording stopped`);
      } else if (alert !== reason) raiseAlert(reason);
      return false;
    }
    if (alert) {
      alert = null;
      publish();
    }
    return true;
  };

  const scheduleDisk = () => {
    diskTimer = ctx.clock.setTimeout(() => {
      void diskGuard()
        .catch((e) => ctx.reportError(`disk check failed: ${errorMessage(e)}`))
        .finally(() => {
          if (!stopped) scheduleDisk();
        });
    }, config.check_interval_ms);
  };

  const makePreview = () => renderPreview(ffmpeg, graphics!.dir, previewArgs(input, style, config.preview_width));

  /** Waits for ffmpeg's first segment; on failure the attempt is undone and the reason thrown. */
  const waitFirstSegment = async (s: Session, signal: AbortSignal, earlier: number, undo: () => void) => {
    const end = Date.now() + config.start_timeout_ms;
    // A session recorded earlier that day already has segments: count only new ones.
    while (!s.rec.currentSegment && index!.segments({ session: s.key }).length === earlier) {
      if (signal.aborted || Date.now() > end || (!s.rec.running && s.rec.restarts > 0)) {
        const reason = s.rec.lastGap?.reason ?? 'no segment after the start timeout';
        await s.rec.stop();
        outage.reset();
        if (session === s) session = null;
        undo();
        publish();
        throw new DeviceError(`ffmpeg did not start recording from ${config.stream}: ${reason}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    async start() {
      stopped = false;
      if (!input.url)
        throw new AgentError(
          'INVALID_PARAMS',
          'recorder: set input (a go2rtc restream rtsp://127.0.0.1:<port>/<stream> or any ffmpeg input)',
        );
      if (!isFilterSafePath(config.font))
        throw new AgentError('INVALID_PARAMS', `recorder: font path "${config.font}" must use only letters, digits, _ . / -`);
      const ff = findExecutable(config.ffmpeg);
      const fp = findExecutable(config.ffprobe);
      if ('checked' in ff || 'checked' in fp) {
        const which = 'checked' in ff ? `ffmpeg "${config.ffmpeg}"` : `ffprobe "${config.ffprobe}"`;
        const checked = 'checked' in ff ? ff.checked : 'checked' in fp ? fp.checked : [];
        ctx.setStatus(
          'error',
          `${which} not found (checked ${checked.slice(0, 6).join(', ')}); install the Debian package "ffmpeg" or set the path`,
        );
        return;
      }
      ffmpeg = ff.path;
      ffprobe = fp.path;
      if (!fs.existsSync(config.font)) {
        ctx.setStatus('error', `font ${config.font} not found (install fonts-dejavu-core or set font)`);
        return;
      }
      const stale = await killStaleFfmpeg(pidFile, root);
      if (stale) ctx.logger.warn({ pid: stale }, 'ended an ffmpeg left recording by an earlier agent');
      index = new RecordingIndex(root);
      // Segments an earlier run left open (agent killed while recording).
      for (const row of index.dangling()) await recoverSegment(ffprobe, root, row.path, index);
      graphics = new Graphics(path.join(ctx.dataDir, 'graphics'), ffmpeg, config.logo_max_px);
      await graphics.init();
      fs.mkdirSync(imageLimits.dir, { recursive: true });
      await diskGuard();
      scheduleDisk();
      ctx.setStatus('online', `ready; recordings in ${root}`);
      publish();
    },

    async stop() {
      stopped = true;
      ctx.clock.clearTimeout(diskTimer);
      await stopSession().catch((e) => ctx.logger.warn({ err: errorMessage(e) }, 'recorder stop failed'));
      index?.close();
      index = null;
    },

    actions: {
      start: defineAction({
        description: 'Start recording (a meeting when meeting_id is given, else ad hoc).',
        params: Type.Object(
          {
            meeting_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            title: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        timeoutMs: config.start_timeout_ms + 5000,
        async run(p, actx) {
          if (session) {
            // Idempotent: a start for what is already being recorded (no meeting
            // named, or the same meeting) is a success that changes nothing; the
            // demo's meeting-start scenario and follow_meeting both start it.
            if (p.meeting_id === undefined || p.meeting_id === session.meetingId) return status();
            throw new DeviceError(
              `already recording session ${session.id}${session.meetingId ? ` (meeting ${session.meetingId})` : ' (ad hoc)'}, not meeting ${p.meeting_id}; stop it first`,
              'CONFLICT',
            );
          }
          if (!(await diskGuard())) throw new DeviceError(`not started: ${alert}`, 'CONFLICT');
          const now = ctx.clock.now();
          const id = sessionIdFor(p.meeting_id, now);
          const key = `${dateFolder(now)}/${id}`;
          const dir = path.join(root, key);
          const createdDirs = mkdirsRecorded(dir);
          const before = index!.session(key);
          index!.openSession({
            key,
            id,
            meeting_id: p.meeting_id ?? null,
            title: p.title ?? null,
            stream: config.stream,
            started_at: new Date(now).toISOString(),
          });
          const rec = new SegmentedRecording({
            ffmpeg,
            ffprobe,
            root,
            sessionKey: key,
            dir,
            meetingId: p.meeting_id ?? null,
            stream: config.stream,
            cwd: graphics!.dir,
            args: () =>
              recordArgs({
                input,
                stream: config.stream,
                dir,
                segmentSeconds: config.segment_seconds,
                preset: config.preset,
                crf: config.crf,
                audio: config.audio,
                style,
              }),
            index: index!,
            logger: ctx.logger,
            clock: ctx.clock,
            restartMinMs: config.restart_min_ms,
            restartMaxMs: config.restart_max_ms,
            pidFile,
            onChange: () => {
              outage.update(session === s ? s.id : null, s.rec.lastGap);
              publish();
            },
          });
          const s: Session = {
            key,
            id,
            meetingId: p.meeting_id ?? null,
            title: p.title ?? null,
            startedAt: new Date(now).toISOString(),
            rec,
          };
          // A start that records nothing leaves nothing: no session row, gap or folder.
          const segmentsBefore = index!.segments({ session: key }).length;
          session = s;
          rec.start();
          const undo = () => {
            if (index!.segments({ session: key }).length > segmentsBefore) {
              // Something was recorded after all (e.g. a segment ffmpeg left playable): keep it.
              index!.closeSession(key, new Date(ctx.clock.now()).toISOString());
              return;
            }
            index!.discardAttempt(key, new Date(now).toISOString(), before);
            for (const d of createdDirs.reverse()) {
              try {
                fs.rmdirSync(d); // only when empty
              } catch {
                break;
              }
            }
          };
          await waitFirstSegment(s, actx.signal, segmentsBefore, undo);
          ctx.emit({ type: 'recorder.started', data: { session: id, meeting_id: s.meetingId, directory: dir } });
          publish();
          return status();
        },
      }),

      stop: defineAction({
        description: 'Stop recording; answers with the session, its segments and gaps.',
        params: Type.Object({}, { additionalProperties: false }),
        timeoutMs: 30_000,
        async run() {
          return (await stopSession()) ?? { session: null, segments: [], gaps: [] };
        },
      }),

      status: defineAction({
        description: 'Recording state, current segment, gaps, free space, overlay layers.',
        params: Type.Object({}, { additionalProperties: false }),
        readOnly: true,
        allowOffline: true,
        async run() {
          return status();
        },
      }),

      recordings: defineAction({
        description: 'The index: recent sessions, or one session with its segments and gaps.',
        params: Type.Object(
          { session: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
          { additionalProperties: false },
        ),
        readOnly: true,
        async run(p) {
          if (!index) throw new DeviceError('index not open');
          if (p.session) {
            const sess = index.sessions(1000).find((x) => x.id === p.session || x.key === p.session);
            if (!sess) throw new AgentError('NOT_FOUND', `no recording session "${p.session}"`);
            return { session: sess, segments: index.segments({ session: sess.key }), gaps: index.gaps(sess.key) };
          }
          return { sessions: index.sessions(p.limit ?? 100) };
        },
      }),

      graphic: defineAction({
        description:
          'Set or clear an overlay layer (title, lower_third, logo); answers with the layers and a JPEG preview (preview null and preview_error when it cannot be made; the layer change stands).',
        params: GraphicParams,
        timeoutMs: 30_000,
        async run(p) {
          const g = graphics!;
          if (p.layer && p.clear) {
            await g.clear(p.layer);
            if (p.layer === 'logo') await session?.rec.restart('graphics: logo cleared');
          } else if (p.layer === 'title' || p.layer === 'lower_third') {
            if (!p.text) throw new AgentError('INVALID_PARAMS', `graphic ${p.layer}: give text, or clear: true`);
            g.setText(p.layer, p.text);
          } else if (p.layer === 'logo') {
            let image: Buffer;
            if (p.image_base64) image = imageFromBase64(p.image_base64, imageLimits);
            else if (p.image_path) image = await imageFromPath(p.image_path, imageLimits);
            else throw new AgentError('INVALID_PARAMS', 'graphic logo: give image_base64 or image_path, or clear: true');
            await g.setLogo(image, p.image_path ?? 'upload').catch((e) => {
              throw new AgentError('INVALID_PARAMS', errorMessage(e));
            });
            // ffmpeg reads the logo once: a new logo means a new segment (recorded as a short gap).
            await session?.rec.restart('graphics: logo changed');
          }
          publish();
          const layers = g.layers();
          if (p.preview === false) return { layers };
          // The layer change stands (it is already in the recording); a preview
          // that cannot be made is reported apart, not as a failed request.
          try {
            const jpeg = await makePreview();
            return { layers, preview: { content_type: 'image/jpeg', bytes: jpeg.length, data_base64: jpeg.toString('base64') } };
          } catch (e) {
            return { layers, preview: null, preview_error: errorMessage(e) };
          }
        },
      }),
    },
  };
}
