// Cameras: presets (recall/store), PTZ arrows and zoom while held, home, and
// a video tile per camera through the agent's video proxy.
import { useEffect, useState } from 'preact/hooks';
import { Badge, Card, type DeviceRecord, useConsole, useRun, useTopic } from './shared.js';

const PRESETS = [1, 2, 3, 4, 5, 6];
const ARROWS: [string, string][] = [
  ['up-left', '↖'],
  ['up', '↑'],
  ['up-right', '↗'],
  ['left', '←'],
  ['', ''],
  ['right', '→'],
  ['down-left', '↙'],
  ['down', '↓'],
  ['down-right', '↘'],
];

interface VideoStatus {
  state: string;
  message?: string;
}
interface VideoStream {
  name: string;
  camera: string;
  kind: string;
}

export function CamerasPanel({ devices }: { devices: DeviceRecord[] }) {
  const status = useTopic<VideoStatus, 'video.status'>('video.status', (_p, e) => e.data as VideoStatus);
  const streams = useTopic<VideoStream[], 'video.streams'>('video.streams', (_p, e) => e.data as VideoStream[]);
  return (
    <Card id="cameras" title="Cameras">
      {devices.length === 0 && <p class="muted">No cameras in this room.</p>}
      <div class="cameras">
        {devices.map((d) => (
          <CameraCard
            key={d.id}
            device={d}
            video={
              status.available === false ? { state: 'unavailable', message: 'no [video] section in api.toml' } : status.state
            }
            stream={
              streams.state?.find((s) => s.camera === d.id && s.kind === 'sub') ?? streams.state?.find((s) => s.camera === d.id)
            }
          />
        ))}
      </div>
    </Card>
  );
}

function CameraCard({ device, video, stream }: { device: DeviceRecord; video: VideoStatus | undefined; stream?: VideoStream }) {
  const { client } = useConsole();
  const run = useRun();
  const [storeAt, setStoreAt] = useState('1');
  const id = device.id;
  const act = (action: string, params: Record<string, unknown>) => client.call('device.action', { device: id, action, params });
  const last = device.state.last_preset?.value;
  const moving = device.state.moving?.value === true;
  const online = device.status.status === 'online';
  const hold = (action: string, params: Record<string, unknown>, stop: Record<string, unknown>, stopAction = action) => ({
    onPointerDown: () => void run(`${action} ${id}`, () => act(action, params)),
    onPointerUp: () => void run(`stop ${id}`, () => act(stopAction, stop)),
    onPointerLeave: (e: PointerEvent) => e.buttons && void run(`stop ${id}`, () => act(stopAction, stop)),
  });
  return (
    <article class="camera" data-camera={id}>
      <header>
        <strong>{device.name}</strong> <Badge value={device.status.status} />
        <span class="muted">
          {' '}
          preset {last === undefined || last === null ? '—' : String(last)}
          {moving ? ' · moving' : ''}
        </span>
      </header>
      <VideoTile video={video} stream={stream} camera={id} />
      <fieldset class="presets" aria-label={`${id} presets`}>
        {PRESETS.map((n) => (
          <button
            type="button"
            key={n}
            data-testid={`preset-${id}-${n}`}
            class={last === n ? 'active' : ''}
            disabled={!online}
            onClick={() => run(`preset ${n} on ${id}`, () => act('preset.recall', { preset: n }))}
          >
            {n}
          </button>
        ))}
      </fieldset>
      <div class="ptz">
        <fieldset class="arrows" aria-label={`${id} pan and tilt`}>
          {ARROWS.map(([dir, label]) =>
            dir ? (
              <button type="button" key={dir} title={dir} disabled={!online} {...hold('move', { direction: dir }, {}, 'stop')}>
                {label}
              </button>
            ) : (
              <button
                type="button"
                key="home"
                title="home"
                disabled={!online}
                onClick={() => run(`home ${id}`, () => act('home', {}))}
              >
                ⌂
              </button>
            ),
          )}
        </fieldset>
        <fieldset class="zoom" aria-label={`${id} zoom`}>
          <button type="button" disabled={!online} {...hold('zoom', { op: 'tele' }, { op: 'stop' })}>
            Zoom +
          </button>
          <button type="button" disabled={!online} {...hold('zoom', { op: 'wide' }, { op: 'stop' })}>
            Zoom −
          </button>
        </fieldset>
        <form
          class="store"
          onSubmit={(e) => {
            e.preventDefault();
            const n = Number(storeAt);
            void run(`store preset ${storeAt} on ${id}`, () => act('preset.store', { preset: n }), `stored preset ${n} on ${id}`);
          }}
        >
          <label>
            Store as preset{' '}
            <input
              type="number"
              min={0}
              max={255}
              value={storeAt}
              onInput={(e) => setStoreAt((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" disabled={!online}>
            Store
          </button>
        </form>
      </div>
    </article>
  );
}

/** JPEG frames through /video/frame.jpeg, fetched with the token header (never in a URL) into blob: URLs. */
function VideoTile({ video, stream, camera }: { video: VideoStatus | undefined; stream?: VideoStream; camera: string }) {
  const { token } = useConsole();
  const [src, setSrc] = useState<string | null>(null);
  const [why, setWhy] = useState<string | null>(null);
  const running = video?.state === 'running' && stream !== undefined;
  useEffect(() => {
    if (!running || !stream) return;
    let gone = false;
    let url: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = async () => {
      try {
        const res = await fetch(`/video/frame.jpeg?src=${encodeURIComponent(stream.name)}`, {
          headers: { authorization: `Bearer ${token}` },
          cache: 'no-store',
        });
        if (!res.ok) throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
        const blob = await res.blob();
        if (gone) return;
        if (url) URL.revokeObjectURL(url);
        url = URL.createObjectURL(blob);
        setSrc(url);
        setWhy(null);
      } catch (e) {
        if (!gone) setWhy(e instanceof Error ? e.message : String(e));
      }
      if (!gone) timer = setTimeout(next, 500);
    };
    void next();
    return () => {
      gone = true;
      clearTimeout(timer);
      if (url) URL.revokeObjectURL(url);
    };
  }, [running, stream?.name, token]);
  let reason: string | null = null;
  if (!video) reason = 'waiting for the video service';
  else if (video.state === 'unavailable') reason = video.message ?? 'unavailable';
  else if (video.state !== 'running') reason = `${video.state}${video.message ? `: ${video.message}` : ''}`;
  else if (!stream) reason = `no stream configured for ${camera}`;
  else if (why) reason = why;
  return (
    <div class="video" data-video={camera}>
      {reason ? (
        <p class="unavailable" data-testid={`video-unavailable-${camera}`}>
          video unavailable: {reason}
        </p>
      ) : (
        src && <img src={src} alt={`${camera} live`} />
      )}
    </div>
  );
}
