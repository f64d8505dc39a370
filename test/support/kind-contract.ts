// The reusable kind contract checks (src/host/kinds.ts, docs/kinds.md): what
// every camera, matrix, mixer, audio processor and microphone must offer,
// checked through a real agent's JSON-RPC API the way the director, scenarios
// and console use it. One check per kind; test/kind-contracts.test.ts runs it
// for every registered driver of the kind.
import { expect, vi } from 'vitest';
import { type ContractAction, KIND_CONTRACTS } from '../../src/host/kinds.js';
import { sharedAjv } from '../../src/util/ajv.js';
import type { RpcTestClient } from './agent.js';
import type { DeviceRecord } from './device-api.js';

export type ContractKind = keyof typeof KIND_CONTRACTS;

/** What a driver's contract test needs beyond the kind: a device config and the values to drive it with. */
export interface KindFixture {
  /** The keys of `[devices.<id>]` (without the table header); `simulated = true` where the driver has a simulator. */
  toml: string;
  /** Audio: the configured level and mute control names. */
  levelControl?: string;
  muteControl?: string;
  /** Microphone: turns a channel on / off at the device (a simulator the test started), and the room events seen. */
  micOn?: (channel: number) => void | Promise<void>;
  micOff?: (channel: number) => void | Promise<void>;
  roomEvents?: { type: string; data: Record<string, unknown> }[];
  /**
   * Microphone: a seat the device reports as the chairman's (its protocol flags it, or the config's
   * `chairman` list names it); absent when the device has no chairman (e.g. Shure).
   */
  chairmanSeat?: number;
  /** Microphone: the link to the unit is lost (gateway closes, adapter pulled); the driver must turn every channel off. */
  dropLink?: () => void | Promise<void>;
  /** Microphone: why a lost link cannot be seen (e.g. UDP, the unit only sends); exactly one of this and `dropLink`. */
  linkLossUnseen?: string;
  /** Matrix/mixer: an input and output that exist on the simulated device (default 2 and 1). */
  input?: number;
  output?: number;
}

interface ListedAction {
  name: string;
  params: object;
}

function exampleFor(a: ContractAction, f: KindFixture): Record<string, unknown> {
  const e = { ...a.example };
  if ('control' in e) e.control = a.name === 'mute' ? f.muteControl : f.levelControl;
  return e;
}

/** Every contract action exists and its params schema accepts what callers send. */
export async function checkActions(client: RpcTestClient, device: string, kind: ContractKind, f: KindFixture): Promise<void> {
  const listed = await client.call<ListedAction[]>('actions.list', { device });
  const byName = new Map(listed.map((a) => [a.name, a]));
  for (const a of KIND_CONTRACTS[kind].actions) {
    const found = byName.get(a.name);
    expect(found, `${device}: ${kind} contract action "${a.name}" missing; has ${[...byName.keys()].join(', ')}`).toBeDefined();
    const validate = sharedAjv().compile(found!.params);
    const params = exampleFor(a, f);
    expect(
      validate(structuredClone(params)),
      `${device}: "${a.name}" refuses ${JSON.stringify(params)}: ${sharedAjv().errorsText(validate.errors)}`,
    ).toBe(true);
  }
}

const state = async (client: RpcTestClient, device: string) =>
  Object.fromEntries(
    Object.entries((await client.call<DeviceRecord>('devices.get', { device })).state).map(([k, v]) => [k, v.value]),
  );

/** The behaviour part: actions answer when the contract says, and the state keys show the result. */
export async function exerciseKind(client: RpcTestClient, device: string, kind: ContractKind, f: KindFixture): Promise<void> {
  const act = (action: string, params: Record<string, unknown>) => client.call('device.action', { device, action, params });
  const input = f.input ?? 2;
  const output = f.output ?? 1;
  switch (kind) {
    case 'camera': {
      const before = await state(client, device);
      expect(typeof before.moving, `${device}: state "moving"`).toBe('boolean');
      expect('last_preset' in before, `${device}: state "last_preset"`).toBe(true);
      await act('preset.recall', { preset: 3 });
      // Answered when the move ended: the same state change set both.
      expect(await state(client, device)).toMatchObject({ moving: false, last_preset: 3 });
      await act('move', { direction: 'left' });
      expect((await state(client, device)).moving).toBe(true);
      await act('stop', {});
      expect((await state(client, device)).moving).toBe(false);
      return;
    }
    case 'matrix': {
      await act('route', { input, output });
      const routes = (await state(client, device)).routes as Record<string, number>;
      expect(routes?.[String(output)], `${device}: routes after route ${input}→${output}`).toBe(input);
      return;
    }
    case 'mixer': {
      await act('program', { input });
      expect((await state(client, device)).program).toBe(input);
      await act('preview', { input: input + 1 });
      expect((await state(client, device)).preview).toBe(input + 1);
      // A cut takes preview to program (and program to preview); the state shows it from the
      // mixer's own report, which may come just after the answer.
      await act('cut', {});
      await vi.waitFor(
        async () =>
          expect(await state(client, device), `${device}: state after cut`).toMatchObject({ program: input + 1, preview: input }),
        { timeout: 5000, interval: 20 },
      );
      // auto answers when the transition started; program shows the former preview once it ended.
      await act('auto', {});
      await vi.waitFor(async () => expect((await state(client, device)).program, `${device}: program after auto`).toBe(input), {
        timeout: 10_000,
        interval: 50,
      });
      return;
    }
    case 'audio': {
      // The control's state follows from the device's own report (Q-SYS change-group poll, Tesira
      // subscription), which may come just after the answer: docs/kinds.md.
      const shows = async (key: string, value: unknown) =>
        vi.waitFor(async () => expect((await state(client, device))[key], `${device}: state "${key}"`).toBe(value), {
          timeout: 5000,
          interval: 20,
        });
      await act('level', { control: f.levelControl, db: -12 });
      await shows(f.levelControl!, -12);
      await act('mute', { control: f.muteControl, on: true });
      await shows(f.muteControl!, true);
      await act('mute', { control: f.muteControl, on: false });
      await shows(f.muteControl!, false);
      return;
    }
    case 'microphone': {
      await exerciseMicrophone(client, device, f);
      return;
    }
  }
}

/**
 * The microphone contract, for an active device (Shure) and a passive unit alike (a conference
 * system's camera output that only talks): on and off reach the `mic` event and the state keys,
 * the chairman's seat is flagged, and a lost link turns every channel off (reason `link_lost`).
 */
async function exerciseMicrophone(client: RpcTestClient, device: string, f: KindFixture): Promise<void> {
  expect(
    Boolean(f.dropLink) !== Boolean(f.linkLossUnseen),
    `${device}: fixture sets exactly one of dropLink, linkLossUnseen`,
  ).toBe(true);
  const events = () => f.roomEvents!.filter((e) => e.type === 'mic' && e.data.device === device).map((e) => e.data);
  const shows = async (active: number[], channels: Record<string, boolean>, why: string) =>
    vi.waitFor(
      async () => {
        const s = await state(client, device);
        expect(s.active, `${device}: state "active" ${why}`).toEqual(active);
        expect(s.channels, `${device}: state "channels" ${why}`).toMatchObject(channels);
      },
      { timeout: 10_000, interval: 50 },
    );
  const eventFor = (channel: number, on: boolean, from: number) =>
    events()
      .slice(from)
      .find((e) => e.channel === channel && e.on === on);

  let seen = events().length;
  await f.micOn!(3);
  await shows([3], { '3': true }, 'after mic 3 on');
  const on = eventFor(3, true, seen);
  expect(on, `${device}: a "mic" event for 3 on`).toMatchObject({ channel: 3, on: true, chairman: false });
  expect(typeof on!.at).toBe('string');

  // A unit that shows one microphone at a time (Taiden) turns 3 off when the chairman speaks.
  const offFrom = events().length;
  const seat = f.chairmanSeat;
  if (seat !== undefined) {
    seen = events().length;
    await f.micOn!(seat);
    await vi.waitFor(() => expect(eventFor(seat, true, seen), `${device}: chairman ${seat} on`).toBeDefined(), {
      timeout: 10_000,
      interval: 50,
    });
    expect(eventFor(seat, true, seen), `${device}: the chairman's seat is flagged`).toMatchObject({ chairman: true });
  }

  await f.micOff!(3);
  await shows(seat === undefined ? [] : [seat], { '3': false }, 'after mic 3 off');
  expect(eventFor(3, false, offFrom), `${device}: a "mic" event for 3 off`).toMatchObject({ channel: 3, on: false });
  if (seat !== undefined) {
    await f.micOff!(seat);
    await shows([], { [String(seat)]: false }, `after chairman ${seat} off`);
  }

  if (f.dropLink) {
    await f.micOn!(3);
    await shows([3], { '3': true }, 'before the link is lost');
    seen = events().length;
    await f.dropLink();
    await vi.waitFor(
      () => expect(eventFor(3, false, seen), `${device}: mic 3 off when the link is lost`).toMatchObject({ reason: 'link_lost' }),
      { timeout: 10_000, interval: 50 },
    );
  }
}
