// The rules that pick a shot: a pure function of the talkers, the time and
// the current shot, so the engine keeps only state and timers.
import type { DirectorSection, DirectorSource } from './config.js';
import type { CurrentShot, DecisionRule, Shot } from './types.js';
import { iso } from '../util/iso.js';

export interface MicInput {
  device: string;
  channel: number;
  on: boolean;
  chairman?: boolean;
}

export interface Talker {
  key: string;
  source: DirectorSource;
  name: string;
  on: boolean;
  chairman: boolean;
  /** Start of the talk spell; pauses shorter than gap_s do not end it. */
  since: number | null;
  offAt: number | null;
}

export interface Want {
  shot: Shot;
  rule: DecisionRule;
  reason: string;
  mic: string | null;
}

export const micKey = (device: string, channel: number) => `${device}/${channel}`;

/** On, or off for less than the gap tolerance. */
export function isActive(t: Talker, now: number, gapS: number): boolean {
  return t.on || (t.offAt !== null && now - t.offAt < gapS * 1000);
}

export interface RuleInput {
  s: DirectorSection;
  now: number;
  talkers: Talker[];
  current: CurrentShot | null;
  farEndSince: number | null;
  pingPongUntil: number;
  /** When the last microphone went off. */
  lastOff: number;
  /** Rule naming the first overview after start or resume. */
  freshRule: DecisionRule | null;
  isOnline(device: string): boolean;
  overview: Shot;
}

/** The shot the rules ask for now, or null to keep the current one. */
export function chooseShot(input: RuleInput): Want | null {
  const { s, now, talkers, current, farEndSince, pingPongUntil, lastOff, freshRule, isOnline, overview } = input;
  const fe = s.far_end;
  if (fe && farEndSince !== null && now - farEndSince >= fe.delay_s * 1000) {
    return { shot: overview, rule: 'far_end', mic: null, reason: `far end speaking (${fe.device} ${fe.state})` };
  }
  if (now < pingPongUntil) {
    return { shot: overview, rule: 'ping_pong', mic: null, reason: `overview held until ${iso(pingPongUntil)}` };
  }
  const triggerMs = s.trigger_s * 1000;
  const eligible = talkers.filter(
    (t) => isActive(t, now, s.gap_s) && t.since !== null && now - t.since >= triggerMs && (t.on || current?.mic === t.key),
  );
  if (eligible.length) {
    const dir = s.priority === 'first' ? 1 : -1;
    eligible.sort((a, b) => Number(b.chairman) - Number(a.chairman) || dir * ((a.since ?? 0) - (b.since ?? 0)));
    const online = eligible.filter((t) => isOnline(t.source.camera));
    const skipped = eligible
      .filter((t) => !online.includes(t))
      .map((t) => `skipped ${t.name}: camera ${t.source.camera} offline`);
    const best = online[0];
    if (!best) {
      return { shot: overview, rule: 'camera_offline', mic: eligible[0].key, reason: skipped.join('; ') };
    }
    const rule: DecisionRule =
      online.length === 1
        ? best.chairman
          ? 'chairman'
          : 'speaker'
        : best.chairman && online.some((t) => !t.chairman)
          ? 'chairman'
          : s.priority === 'first'
            ? 'first_come'
            : 'last_come';
    const others = online.slice(1).map((t) => t.name);
    const reason = [
      `${best.name} (${best.key}${best.chairman ? ', chairman' : ''}) speaking since ${iso(best.since ?? now)}`,
      ...(others.length ? [`also speaking: ${others.join(', ')}`] : []),
      ...skipped,
    ].join('; ');
    return { shot: { kind: 'speaker', camera: best.source.camera, preset: best.source.preset }, rule, mic: best.key, reason };
  }
  // Someone is speaking but not yet long enough, or pausing within gap_s: keep the shot.
  if (talkers.some((t) => isActive(t, now, s.gap_s))) return null;
  if (current?.kind === 'overview') return null;
  if (!current) {
    return { shot: overview, rule: freshRule ?? 'silence', mic: null, reason: 'nobody speaks' };
  }
  if (now - lastOff >= s.silence_s * 1000) {
    return { shot: overview, rule: 'silence', mic: null, reason: `no microphone on for ${s.silence_s} s` };
  }
  return null;
}
