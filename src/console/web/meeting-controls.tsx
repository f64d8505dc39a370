// In-meeting control from the meeting view: invite (TrueConf), dial (Twilio),
// record, remove a participant, send and check a verification code for a
// joiner nobody recognises; and the meeting's timeline with its
// interruptions. Each action's refusal shows as a notice with its code.
import { useState } from 'preact/hooks';
import type { Insight, InterruptionInsight, ParticipantInsight } from '../../client/meeting-deltas.js';
import { duration, time, useConsole, useRun } from './shared.js';

type InviteBy = 'person' | 'email' | 'user_id';
type DialBy = 'person' | 'number';

/** Invite, dial and record for the meeting as a whole. */
export function MeetingControls({ meeting }: { meeting: string }) {
  const { client } = useConsole();
  const run = useRun();
  const [inviteBy, setInviteBy] = useState<InviteBy>('person');
  const [invitee, setInvitee] = useState('');
  const [dialBy, setDialBy] = useState<DialBy>('person');
  const [callee, setCallee] = useState('');
  const [last, setLast] = useState<string | null>(null);
  const invite = () =>
    run(
      'invite',
      async () => {
        const r = await client.call('meetings.invite', { meeting, [inviteBy]: invitee.trim() });
        setLast(`invited ${String((r as { user_id?: string }).user_id ?? invitee)}`);
      },
      `Invited ${invitee.trim()}`,
    );
  const dial = () =>
    run(
      'dial',
      async () => {
        const r = await client.call('meetings.dial', { meeting, [dialBy]: callee.trim() });
        setLast(`dialling ${r.person ?? r.to} (${r.status})`);
      },
      `Dialling ${callee.trim()}`,
    );
  const record = (on: boolean) =>
    run(
      'record',
      async () => {
        await client.call('meetings.record', { meeting, on });
        setLast(on ? 'recording on' : 'recording off');
      },
      on ? 'Recording on' : 'Recording off',
    );
  return (
    <div class="controls meeting-controls" data-testid="meeting-controls">
      <TargetForm
        name="invite"
        label="Invite"
        kinds={[
          ['person', 'person'],
          ['email', 'e-mail'],
          ['user_id', 'TrueConf id'],
        ]}
        kind={inviteBy}
        setKind={setInviteBy}
        value={invitee}
        setValue={setInvitee}
        valueLabel="who to invite"
        valueTestId="invitee"
        onGo={invite}
      />
      <TargetForm
        name="dial"
        label="Dial"
        kinds={[
          ['person', 'person'],
          ['number', 'number'],
        ]}
        kind={dialBy}
        setKind={setDialBy}
        value={callee}
        setValue={setCallee}
        valueLabel="who to dial"
        valueTestId="callee"
        onGo={dial}
      />
      <span class="control">
        <button type="button" data-testid="record-on" onClick={() => void record(true)}>
          Record
        </button>
        <button type="button" data-testid="record-off" onClick={() => void record(false)}>
          Stop recording
        </button>
      </span>
      {last && (
        <span class="muted" data-testid="control-result">
          {last}
        </span>
      )}
    </div>
  );
}

/** A one-line form: what kind of target (select), who (text), and a button that acts when the text is not blank. */
function TargetForm<K extends string>(o: {
  name: string;
  label: string;
  kinds: [K, string][];
  kind: K;
  setKind: (k: K) => void;
  value: string;
  setValue: (v: string) => void;
  valueLabel: string;
  valueTestId: string;
  onGo: () => unknown;
}) {
  return (
    <form
      class="control"
      onSubmit={(e) => {
        e.preventDefault();
        if (o.value.trim()) void o.onGo();
      }}
    >
      <select
        aria-label={`${o.name} by`}
        data-testid={`${o.name}-by`}
        value={o.kind}
        onChange={(e) => o.setKind((e.target as HTMLSelectElement).value as K)}
      >
        {o.kinds.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      <input
        aria-label={o.valueLabel}
        data-testid={o.valueTestId}
        value={o.value}
        onInput={(e) => o.setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" data-testid={o.name}>
        {o.label}
      </button>
    </form>
  );
}

/** The id the control methods take for a participant: its TrueConf id / uri, else its latest call. */
export const participantId = (p: ParticipantInsight): string => p.part_uri ?? p.calls[0]?.call_id ?? p.key;

/** Remove, and for a joiner not (or not surely) matched: send a code to a person and bind the joiner who gives it. */
export function ParticipantActions({ meeting, p }: { meeting: string; p: ParticipantInsight }) {
  const { client } = useConsole();
  const run = useRun();
  const [open, setOpen] = useState(false);
  const [person, setPerson] = useState(p.person ?? '');
  const [channel, setChannel] = useState<'sms' | 'email'>('sms');
  const [code, setCode] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const id = participantId(p);
  const unsure = !p.matched || p.identity_conflict;
  return (
    <div class="participant-actions">
      {p.identity_conflict && (
        <span class="badge badge-conflict" data-testid="identity-conflict" title="another joiner claims the same person">
          identity conflict
        </span>
      )}
      {p.matched_by === 'code' && (
        <span class="badge badge-code" data-testid="matched-by-code">
          verified by code
        </span>
      )}
      <button
        type="button"
        class="small"
        data-testid={`remove-${p.key}`}
        onClick={() => void run('remove', () => client.call('meetings.remove', { meeting, participant: id }), `Removed ${id}`)}
      >
        Remove
      </button>
      {unsure && (
        <button type="button" class="small" data-testid={`verify-${p.key}`} onClick={() => setOpen(!open)}>
          Verify…
        </button>
      )}
      {unsure && open && (
        <div class="verify" data-testid={`verify-form-${p.key}`}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void run('send code', async () => {
                const r = await client.call('identity.issue', { meeting, person: person.trim(), channel });
                setSent(`code sent to ${r.sent_to}, valid until ${time(r.expires_at)}`);
              });
            }}
          >
            <input
              aria-label="person"
              placeholder="person (roster)"
              data-testid="code-person"
              value={person}
              onInput={(e) => setPerson((e.target as HTMLInputElement).value)}
            />
            <select
              aria-label="channel"
              data-testid="code-channel"
              value={channel}
              onChange={(e) => setChannel((e.target as HTMLSelectElement).value as 'sms' | 'email')}
            >
              <option value="sms">SMS</option>
              <option value="email">e-mail</option>
            </select>
            <button type="submit" data-testid="send-code">
              Send code
            </button>
          </form>
          {sent && (
            <span class="muted" data-testid="code-sent">
              {sent}
            </span>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void run(
                'verify code',
                async () => {
                  await client.call('identity.verify', { meeting, code: code.trim(), participant: id });
                  setCode('');
                  setOpen(false);
                },
                `${id} verified`,
              );
            }}
          >
            <input
              aria-label="code"
              placeholder="code the joiner gives"
              inputMode="numeric"
              autoComplete="off"
              data-testid="code"
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            />
            <button type="submit" data-testid="verify-code">
              Bind
            </button>
          </form>
        </div>
      )}
    </div>
  );
}

const KIND_TEXT: Record<InterruptionInsight['kind'], string> = {
  dropped: 'dropped',
  dial_failed: 'dial failed',
  instance_failed: 'conference failed',
};

/**
 * The meeting from its start to its end (or now): the timer's segments and the
 * interruptions on one bar, and the interruptions listed below it.
 */
export function MeetingTimeline({ insight, now, receivedAt }: { insight: Insight; now: number; receivedAt: number }) {
  const start = Date.parse(insight.actual_start_time ?? insight.instances[0]?.begin_time ?? insight.as_of);
  const asOf = Date.parse(insight.as_of) + Math.max(0, now - receivedAt);
  const end = insight.actual_end_time ? Date.parse(insight.actual_end_time) : asOf;
  const span = Math.max(1, end - start);
  const place = (from: number, to: number) => ({
    left: `${Math.min(100, Math.max(0, ((from - start) / span) * 100))}%`,
    width: `${Math.max(0.4, Math.min(100, ((Math.min(to, end) - Math.max(from, start)) / span) * 100))}%`,
  });
  const interruptions = insight.interruptions ?? [];
  return (
    <div class="timeline-box">
      <div class="timeline" data-testid="timeline" role="img" aria-label="meeting timeline: timer segments and interruptions">
        {insight.timer.segments.map((s) => (
          <span
            key={`seg${s.start}`}
            class="seg"
            title={`timer ${time(s.start)}–${s.end ? time(s.end) : 'now'}`}
            style={place(Date.parse(s.start), s.end ? Date.parse(s.end) : end)}
          />
        ))}
        {interruptions.map((x) => {
          const at = Date.parse(x.at);
          return (
            <span
              key={`int${x.at}${x.kind}${x.participant}`}
              class={`int int-${x.kind}`}
              data-interruption={x.kind}
              title={`${KIND_TEXT[x.kind]} ${x.participant ?? ''} ${x.reason ?? ''}`}
              style={place(at, x.duration_ms === null ? end : at + x.duration_ms)}
            />
          );
        })}
      </div>
      {interruptions.length > 0 && (
        <ol class="interruptions" aria-label="interruptions">
          {interruptions.map((x) => (
            <li
              key={`${x.at}${x.kind}${x.participant}`}
              data-interruption-kind={x.kind}
              data-open={String(x.duration_ms === null)}
            >
              {time(x.at)} <strong>{KIND_TEXT[x.kind]}</strong> {x.participant ?? 'the conference'}
              {x.reason ? <span class="muted"> · {x.reason}</span> : null} ·{' '}
              {x.duration_ms === null ? 'not back' : `back after ${duration(x.duration_ms)}`}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
