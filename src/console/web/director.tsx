// The camera director: mode switch, the current shot and why, talkers, and
// the decision log as decisions are made.
import { useEffect, useState } from 'preact/hooks';
import { Badge, Card, time, useConsole, useRun, useTopic } from './shared.js';

interface Shot {
  kind: string;
  camera: string;
  preset: number;
  since?: string;
  rule?: string;
  reason?: string;
  mic?: string | null;
}
interface Decision {
  id?: number;
  at: string;
  rule: string;
  shot: Shot | null;
  mic: string | null;
  reason: string;
}
interface Status {
  mode: 'auto' | 'paused' | 'off';
  paused_until: string | null;
  shot: Shot | null;
  talkers: { mic: string; name: string; on: boolean; chairman: boolean; since: string | null }[];
  program: string | number | null;
  far_end: boolean;
}
interface View {
  status?: Status;
  decisions: Decision[];
}

function reduce(prev: View | undefined, e: { data: unknown }): View {
  const d = e.data as { status?: Status; decision?: Decision };
  const decisions = prev?.decisions ?? [];
  if (d.decision) return { status: prev?.status, decisions: [d.decision, ...decisions].slice(0, 100) };
  return { status: d.status ?? prev?.status, decisions };
}

export function DirectorPanel() {
  const { client, epoch } = useConsole();
  const run = useRun();
  const live = useTopic('director', reduce);
  const [history, setHistory] = useState<Decision[]>([]);
  useEffect(() => {
    if (!live.available) return;
    client.call('director.decisions', { limit: 30 }).then(
      (r) => setHistory((r as { decisions: Decision[] }).decisions),
      () => undefined,
    );
  }, [client, live.available, epoch]);
  if (live.available === false)
    return (
      <Card id="director" title="Director">
        <p class="muted">No [director] section in api.toml.</p>
      </Card>
    );
  const s = live.state?.status;
  const seen = new Set(live.state?.decisions.map((d) => d.id));
  const decisions = [...(live.state?.decisions ?? []), ...history.filter((d) => !seen.has(d.id))].slice(0, 50);
  return (
    <Card
      id="director"
      title="Director"
      extra={
        <fieldset class="modes" aria-label="director mode">
          {(['auto', 'paused', 'off'] as const).map((m) => (
            <button
              type="button"
              key={m}
              class={s?.mode === m ? 'active' : ''}
              data-testid={`director-${m}`}
              onClick={() => run(`director ${m}`, () => client.call('director.set', { mode: m }))}
            >
              {m}
            </button>
          ))}
        </fieldset>
      }
    >
      {s && (
        <div class="shot">
          <p>
            Mode <Badge value={s.mode} />
            {s.paused_until && <span class="muted"> until {time(s.paused_until)}</span>}
            {s.far_end && <span class="muted"> · far end talking</span>}
            {s.program !== null && <span class="muted"> · on air: input {String(s.program)}</span>}
          </p>
          {s.shot ? (
            <p id="director-shot">
              <strong>
                {s.shot.camera} preset {s.shot.preset}
              </strong>{' '}
              ({s.shot.kind}) since {time(s.shot.since)} — <em>{s.shot.rule}</em>: {s.shot.reason}
            </p>
          ) : (
            <p class="muted">No shot yet.</p>
          )}
          <ul class="talkers">
            {s.talkers.map((t) => (
              <li key={t.mic} class={t.on ? 'on' : ''}>
                <span class={`dot ${t.on ? 'on' : 'off'}`} /> {t.name}
                {t.chairman ? ' (chair)' : ''} <span class="muted">{t.mic}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>Decisions</h3>
      <ol class="decisions">
        {decisions.map((d) => (
          <li key={d.id ?? d.at + d.reason}>
            {time(d.at)} <em>{d.rule}</em>
            {d.shot ? ` → ${d.shot.camera} preset ${d.shot.preset}` : ''}: {d.reason}
          </li>
        ))}
        {decisions.length === 0 && <li class="muted">No decisions yet.</li>}
      </ol>
    </Card>
  );
}
