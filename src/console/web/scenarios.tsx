// Scenarios: run, cancel, and each run's steps as they progress.
import { useEffect, useState } from 'preact/hooks';
import { Badge, Card, time, useConsole, useRun, useTopic } from './shared.js';

interface Step {
  path: string;
  label: string;
  status: string;
  started_at: string;
  duration_ms?: number;
  error?: string;
}
interface Run {
  id: string;
  scenario: string;
  trigger: { kind: string; detail?: string };
  started_at: string;
  ended_at: string | null;
  outcome: string;
  error: string | null;
  steps: Step[];
}
interface ScenarioInfo {
  name: string;
  description: string;
  mode: string;
  running: string[];
}
interface View {
  automation?: boolean;
  runs: Map<string, Run>;
}

function reduce(prev: View | undefined, e: { snapshot: boolean; data: unknown }): View {
  const d = e.data as { automation?: boolean; running?: Run[]; run?: Run };
  const runs = new Map(e.snapshot ? [] : prev?.runs);
  for (const r of d.running ?? []) runs.set(r.id, r);
  if (d.run) runs.set(d.run.id, d.run);
  return { automation: d.automation ?? prev?.automation, runs };
}

export function ScenariosPanel() {
  const { client, epoch } = useConsole();
  const run = useRun();
  const live = useTopic('scenarios', reduce);
  const [list, setList] = useState<ScenarioInfo[]>([]);
  const [history, setHistory] = useState<Run[]>([]);
  useEffect(() => {
    if (!live.available) return;
    client.call('scenarios.list').then(
      (r) => setList((r as { scenarios: ScenarioInfo[] }).scenarios),
      () => undefined,
    );
    client.call('scenarios.runs', { limit: 10 }).then(
      (r) => setHistory(r as Run[]),
      () => undefined,
    );
  }, [client, live.available, epoch]);
  if (live.available === false)
    return (
      <Card id="scenarios" title="Scenarios">
        <p class="muted">Scenarios are not available on this agent.</p>
      </Card>
    );
  const runs = new Map(history.map((r) => [r.id, r]));
  for (const [id, r] of live.state?.runs ?? []) runs.set(id, r);
  const recent = [...runs.values()]
    .sort((a, b) => b.started_at.localeCompare(a.started_at) || b.id.localeCompare(a.id))
    .slice(0, 8);
  const automation = live.state?.automation;
  return (
    <Card
      id="scenarios"
      title="Scenarios"
      extra={
        <label class="switch">
          <input
            type="checkbox"
            checked={automation === true}
            onChange={(e) =>
              run('automation', () => client.call('scenarios.automation', { enabled: (e.target as HTMLInputElement).checked }))
            }
          />{' '}
          automatic triggers
        </label>
      }
    >
      <ul class="scenario-list">
        {list.map((s) => {
          const running = recent.some((r) => r.scenario === s.name && (r.outcome === 'running' || r.outcome === 'queued'));
          return (
            <li key={s.name} data-scenario={s.name}>
              <div>
                <strong>{s.name}</strong> <span class="muted">{s.description}</span>
              </div>
              <button
                type="button"
                data-testid={`run-${s.name}`}
                onClick={() => run(`run ${s.name}`, () => client.call('scenarios.run', { name: s.name }))}
              >
                Run
              </button>
              <button
                type="button"
                disabled={!running}
                data-testid={`cancel-${s.name}`}
                onClick={() => run(`cancel ${s.name}`, () => client.call('scenarios.cancel', { name: s.name }))}
              >
                Cancel
              </button>
            </li>
          );
        })}
        {list.length === 0 && <li class="muted">No scenarios loaded.</li>}
      </ul>
      <h3>Runs</h3>
      {recent.map((r) => (
        <div class="run" key={r.id} data-run={r.id} data-run-scenario={r.scenario} data-outcome={r.outcome}>
          <p>
            <strong>{r.scenario}</strong> <Badge value={r.outcome} />{' '}
            <span class="muted">
              {time(r.started_at)} · {r.trigger.kind}
              {r.trigger.detail ? ` (${r.trigger.detail})` : ''}
            </span>
            {r.error && <span class="error"> {r.error}</span>}
          </p>
          <ol class="steps">
            {r.steps.map((s) => (
              <li key={`${s.path}-${s.started_at}`} class={`step step-${s.status}`} data-step-status={s.status}>
                <Badge value={s.status} /> {s.label}
                {s.duration_ms !== undefined && <span class="muted"> {s.duration_ms} ms</span>}
                {s.error && <span class="error"> {s.error}</span>}
              </li>
            ))}
          </ol>
        </div>
      ))}
      {recent.length === 0 && <p class="muted">No runs yet.</p>}
    </Card>
  );
}
