// Matrix routing grid, mixer program/preview, audio levels and mutes; drawn
// from each device's live state and driven through its actions.
import { Badge, Card, type DeviceRecord, useConsole, useRun } from './shared.js';

const val = (d: DeviceRecord, key: string): unknown => d.state[key]?.value;

export function AvPanel({ devices }: { devices: DeviceRecord[] }) {
  return (
    <Card id="av" title="Routing, mixer and audio">
      {devices.length === 0 && <p class="muted">No matrix, mixer or audio processor in this room.</p>}
      {devices.map((d) =>
        d.kind === 'matrix' ? (
          <Matrix key={d.id} device={d} />
        ) : d.kind === 'mixer' ? (
          <Mixer key={d.id} device={d} />
        ) : (
          <Audio key={d.id} device={d} />
        ),
      )}
    </Card>
  );
}

function Title({ device }: { device: DeviceRecord }) {
  return (
    <h3>
      {device.name} <Badge value={device.status.status} />
    </h3>
  );
}

function Matrix({ device }: { device: DeviceRecord }) {
  const { client } = useConsole();
  const run = useRun();
  const routes = (val(device, 'routes') ?? {}) as Record<string, number>;
  const inLabels = (val(device, 'input_labels') ?? {}) as Record<string, string>;
  const outLabels = (val(device, 'output_labels') ?? {}) as Record<string, string>;
  const count = (labels: Record<string, string>, extra: number[]) =>
    Math.max(0, ...Object.keys(labels).map(Number).filter(Number.isFinite), ...extra);
  const inputs = count(inLabels, Object.values(routes));
  const outputs = count(outLabels, Object.keys(routes).map(Number));
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  return (
    <div class="matrix" data-matrix={device.id}>
      <Title device={device} />
      {inputs === 0 || outputs === 0 ? (
        <p class="muted">No routing known yet.</p>
      ) : (
        <table class="grid-table">
          <thead>
            <tr>
              <th>out \ in</th>
              {range(inputs).map((i) => (
                <th key={i} title={inLabels[String(i)]}>
                  {i}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {range(outputs).map((o) => (
              <tr key={o}>
                <th title={outLabels[String(o)]}>
                  {o} <span class="muted">{outLabels[String(o)] ?? ''}</span>
                </th>
                {range(inputs).map((i) => (
                  <td key={i}>
                    <button
                      type="button"
                      class={routes[String(o)] === i ? 'cell on' : 'cell'}
                      aria-label={`route input ${i} to output ${o}`}
                      aria-pressed={routes[String(o)] === i}
                      onClick={() =>
                        run(`route ${i}→${o}`, () =>
                          client.call('device.action', { device: device.id, action: 'route', params: { input: i, output: o } }),
                        )
                      }
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Mixer({ device }: { device: DeviceRecord }) {
  const { client } = useConsole();
  const run = useRun();
  const inputs = (val(device, 'inputs') ?? []) as { number: number; title: string }[];
  const program = val(device, 'program');
  const preview = val(device, 'preview');
  const act = (action: string, params: Record<string, unknown>) => () =>
    run(`${action} on ${device.id}`, () => client.call('device.action', { device: device.id, action, params }));
  return (
    <div class="mixer" data-mixer={device.id}>
      <Title device={device} />
      <p>
        Program <strong>{program === undefined ? '—' : String(program)}</strong> · Preview{' '}
        <strong>{preview === undefined ? '—' : String(preview)}</strong>{' '}
        <button type="button" onClick={act('cut', {})}>
          Cut
        </button>{' '}
        <button type="button" onClick={act('auto', {})}>
          Auto
        </button>
      </p>
      <ul class="inputs">
        {inputs.map((i) => (
          <li key={i.number} class={i.number === program ? 'program' : i.number === preview ? 'preview' : ''}>
            <span>
              {i.number}. {i.title}
            </span>
            <button type="button" onClick={act('preview', { input: i.number })}>
              PVW
            </button>
            <button type="button" onClick={act('program', { input: i.number })}>
              PGM
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Controls are the state values an audio driver publishes: numbers are levels (dB), booleans are mutes. */
function Audio({ device }: { device: DeviceRecord }) {
  const { client } = useConsole();
  const run = useRun();
  const controls = Object.entries(device.state).filter(([, v]) => typeof v.value === 'number' || typeof v.value === 'boolean');
  const act = (action: string, params: Record<string, unknown>) =>
    run(`${action} on ${device.id}`, () => client.call('device.action', { device: device.id, action, params }));
  return (
    <div class="audio" data-audio={device.id}>
      <Title device={device} />
      {controls.length === 0 && <p class="muted">No level or mute controls reported yet.</p>}
      <ul class="controls">
        {controls.map(([name, v]) =>
          typeof v.value === 'boolean' ? (
            <li key={name}>
              <span>{name}</span>
              <button
                type="button"
                class={v.value ? 'muted-on' : ''}
                aria-pressed={v.value}
                onClick={() => act('mute', { control: name, on: !v.value })}
              >
                {v.value ? 'Muted' : 'Live'}
              </button>
            </li>
          ) : (
            <li key={name}>
              <span>{name}</span>
              <meter min={-100} max={20} low={-40} high={0} value={v.value as number} />
              <input
                type="range"
                min={-100}
                max={20}
                step={0.5}
                value={v.value as number}
                aria-label={`${name} level`}
                onChange={(e) => act('level', { control: name, db: Number((e.target as HTMLInputElement).value) })}
              />
              <span class="num">{(v.value as number).toFixed(1)} dB</span>
            </li>
          ),
        )}
      </ul>
    </div>
  );
}
