import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dedupKey, EventInputError, parseConfEvent, parseTime, parseUserData, userDataMemoSize } from '../src/tracking/parse.js';
import { dedupText } from './support/dedup-text.js';
import { iso } from '../src/util/iso.js';
import { mapZoom, verifyZoom, zoomSignature, zoomUrlValidation } from '../src/tracking/zoom.js';

const NOW = Date.UTC(2025, 10, 22, 13, 0, 0);

describe('parseTime', () => {
  it.each([
    [1763812800, Date.UTC(2025, 10, 22, 12)],
    [1763812800.5, Date.UTC(2025, 10, 22, 12) + 500],
    [1763812800123, Date.UTC(2025, 10, 22, 12) + 123],
    ['1763812800', Date.UTC(2025, 10, 22, 12)],
    ['1763812800123', Date.UTC(2025, 10, 22, 12) + 123],
    ['2025-11-22T12:00:00Z', Date.UTC(2025, 10, 22, 12)],
    ['2025-11-22T15:00:00.250+03:00', Date.UTC(2025, 10, 22, 12) + 250],
    ['2025-11-22T12:00:00+0000', Date.UTC(2025, 10, 22, 12)],
  ])('%s → epoch ms', (input, want) => {
    expect(parseTime(input)).toBe(want);
  });
  it.each([
    ['2025-11-22T12:00:00'],
    ['yesterday'],
    [Number.NaN],
    [-5],
    [0],
    [true],
    [null],
    [{}],
    ['2025-13-45T99:00:00Z'],
    [1e15],
  ])('rejects %s', (input) => {
    expect(parseTime(input)).toBeUndefined();
  });
});

describe('parseUserData', () => {
  it('reads our keys from a JSON object and ignores anything else', () => {
    expect(parseUserData('{"meeting":"M-1","person":"p-1","role":"expert","timer_requires":["a","b"]}')).toEqual({
      meeting: 'M-1',
      person: 'p-1',
      role: 'expert',
      timer_requires: ['a', 'b'],
    });
    expect(parseUserData('{"meeting": 42}').meeting).toBe('42');
    for (const s of ['hello', '{broken', '[1,2]', 'null', '', '{"person": {"x":1}}']) {
      expect(parseUserData(s)).toMatchObject({ meeting: null, person: null, role: null });
    }
  });
});

describe('parseConfEvent', () => {
  it('maps every callback of docs/tracking.md (POST /hooks/conference)', () => {
    const q = parseConfEvent(
      {
        event: 'conf.quit',
        id: 'c',
        join_time: 1763812875,
        quit_time: '2025-11-22T12:10:00Z',
        call_id: 'k',
        part_uri: '+7',
        user_data: '{"person":"p-42","role":"expert"}',
        extra: 'ignored',
      },
      0,
      NOW,
    );
    expect(q).toMatchObject({
      event: 'conf.quit',
      known: true,
      conference: 'c',
      call_id: 'k',
      part_uri: '+7',
      join_time: 1763812875000,
      quit_time: Date.UTC(2025, 10, 22, 12, 10),
      person: 'p-42',
      role: 'expert',
      at: Date.UTC(2025, 10, 22, 12, 10),
    });
    const failed = parseConfEvent(
      { event: 'conf.end', id: 'c', begin_time: null, end_time: null, error: 'x', user_data: null },
      0,
      NOW,
    );
    expect(failed).toMatchObject({ error: 'x', begin_time: null, end_time: null, at: NOW });
    const rec = parseConfEvent(
      { event: 'conf.record_end', id: 'c', begin_time: 1763812830, end_time: 1763815000, user_data: null },
      0,
      NOW,
    );
    expect(rec.at).toBe(1763815000000);
    const play = parseConfEvent({ event: 'conf.play_end', id: 'c', begin_time: 1763812830, end_time: 1763812840 }, 0, NOW);
    expect(play.known).toBe(true);
  });

  it('keeps unknown event names (known = false) with only event and id required', () => {
    const u = parseConfEvent({ event: 'conf.mute', id: 'c', whatever: 1 }, 0, NOW);
    expect(u).toMatchObject({ event: 'conf.mute', known: false, at: NOW });
  });

  it.each([
    [[1, 2], '(event)'],
    [{ id: 'c' }, 'event'],
    [{ event: 'conf.joined' }, 'id'],
    [{ event: 'conf.joined', id: 7 }, 'id'],
    [{ event: 'conf.joined', id: 'c', join_time: 'soon', call_id: 'k', part_uri: 'u' }, 'join_time'],
    [{ event: 'conf.joined', id: 'c', join_time: 1763812875, part_uri: 'u' }, 'call_id'],
    [{ event: 'conf.joined', id: 'c', join_time: 1763812875, call_id: 'k', part_uri: 5 }, 'part_uri'],
    [{ event: 'conf.quit', id: 'c', join_time: 1763812875, quit_time: 1763812800, call_id: 'k', part_uri: 'u' }, 'quit_time'],
    [{ event: 'conf.create.succ', id: 'c' }, 'begin_time'],
    [{ event: 'conf.end', id: 'c', begin_time: null, end_time: null, error: null }, 'end_time'],
    [{ event: 'conf.end', id: 'c', begin_time: 1763812875, end_time: 1763812875, error: 5 }, 'error'],
    [{ event: 'conf.create.succ', id: 'c', begin_time: 1763812800, user_data: 5 }, 'user_data'],
  ])('rejects %j naming field %s', (input, field) => {
    try {
      parseConfEvent(input, 3, NOW);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EventInputError);
      expect((e as EventInputError).field).toBe(field);
      expect((e as EventInputError).index).toBe(3);
    }
  });

  it('dedup key: same business fields are one event whatever the time format; different times are not', () => {
    const a = { event: 'conf.joined', id: 'c', join_time: 1763812875, call_id: 'k', part_uri: 'u', user_data: null };
    const b = { ...a, join_time: '2025-11-22T12:01:15.000Z' };
    const c = { ...a, join_time: 1763812876 };
    for (const key of [dedupText, dedupKey]) {
      const k = (x: unknown, now: number) => key(parseConfEvent(x, 0, now), x);
      expect(k(a, NOW)).toBe(k(b, NOW + 5000));
      expect(k(a, NOW)).not.toBe(k(c, NOW));
      const u1 = { event: 'conf.mute', id: 'c', x: 1, y: 2 };
      const u2 = { y: 2, id: 'c', event: 'conf.mute', x: 1 };
      expect(k(u1, NOW)).toBe(k(u2, NOW + 1));
      expect(k(u1, NOW)).not.toBe(k({ ...u1, x: 3 }, NOW));
    }
  });

  it('never throws anything but EventInputError on random input', () => {
    const value = fc.oneof(
      fc.anything(),
      fc.record(
        {
          event: fc.constantFrom(
            'conf.create.succ',
            'conf.end',
            'conf.joined',
            'conf.quit',
            'conf.play_end',
            'conf.record_end',
            'x',
          ),
          id: fc.oneof(fc.string(), fc.integer()),
          begin_time: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double()),
          end_time: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
          join_time: fc.oneof(fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }), fc.string()),
          quit_time: fc.oneof(fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }), fc.string()),
          call_id: fc.oneof(fc.string(), fc.constant(null)),
          part_uri: fc.string(),
          error: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
          user_data: fc.oneof(fc.string(), fc.constant(null), fc.json()),
        },
        { requiredKeys: [] },
      ),
    );
    const keys = new Map<number, string>();
    fc.assert(
      fc.property(value, (v) => {
        try {
          const ev = parseConfEvent(v, 0, NOW);
          const key = dedupKey(ev, v);
          expect(Number.isSafeInteger(key) && key >= 0).toBe(true);
          // The key hashes exactly the key text's fields: equal texts, equal keys; distinct texts (so far) distinct keys.
          // (less the conference, which the unique index holds beside the key)
          const fields = JSON.parse(dedupText(ev, v)) as unknown[];
          fields.splice(1, 1);
          const text = JSON.stringify(fields);
          const seen = keys.get(key);
          if (seen !== undefined) expect(seen).toBe(text);
          keys.set(key, text);
        } catch (e) {
          expect(e).toBeInstanceOf(EventInputError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('zoom', () => {
  const secret = 'zoom-secret-123';
  const body = Buffer.from('{"event":"meeting.started","payload":{}}');
  const headers = (ts: number, sig?: string) => ({
    'x-zm-request-timestamp': String(ts),
    'x-zm-signature': sig ?? zoomSignature(secret, String(ts), body),
  });

  it('accepts a correct signature and rejects a wrong one, a stale timestamp, missing headers', () => {
    const ts = Math.floor(NOW / 1000);
    expect(verifyZoom(headers(ts), body, secret, NOW, 300)).toEqual({ ok: true });
    expect(verifyZoom(headers(ts, 'v0=00'), body, secret, NOW, 300)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyZoom(headers(ts), Buffer.concat([body, Buffer.from(' ')]), secret, NOW, 300).ok).toBe(false);
    expect(verifyZoom(headers(ts - 301), body, secret, NOW, 300)).toMatchObject({ ok: false });
    expect(verifyZoom({}, body, secret, NOW, 300).ok).toBe(false);
  });

  it('answers url validation with the HMAC of the plain token', () => {
    expect(mapZoom({ event: 'endpoint.url_validation', payload: { plainToken: 'abc' } }, NOW)).toEqual({
      kind: 'url_validation',
      plainToken: 'abc',
    });
    expect(zoomUrlValidation('abc', secret).encryptedToken).toMatch(/^[0-9a-f]{64}$/);
  });

  it('maps meeting and participant events to internal events', () => {
    const obj = { id: 85012345678, uuid: 'u-1==', start_time: '2025-11-22T12:00:00Z' };
    const started = mapZoom({ event: 'meeting.started', event_ts: NOW, payload: { object: obj } }, NOW);
    expect(started).toMatchObject({
      kind: 'events',
      events: [
        { event: 'conf.create.succ', conference: 'u-1==', meeting: '85012345678', begin_time: Date.UTC(2025, 10, 22, 12) },
      ],
    });
    const p = { user_name: 'Ann', email: 'Ann@Example.com', join_time: '2025-11-22T12:01:00Z', participant_uuid: 'pu' };
    const j = mapZoom({ event: 'meeting.participant_joined', payload: { object: { ...obj, participant: p } } }, NOW);
    expect(j).toMatchObject({
      events: [
        {
          event: 'conf.joined',
          part_uri: 'ann@example.com',
          join_time: Date.UTC(2025, 10, 22, 12, 1),
          call_id: expect.any(String),
        },
      ],
    });
    const left = { ...p, join_time: undefined, leave_time: '2025-11-22T12:05:00Z' };
    const l = mapZoom({ event: 'meeting.participant_left', payload: { object: { ...obj, participant: left } } }, NOW);
    expect(l).toMatchObject({ events: [{ event: 'conf.quit', call_id: null, quit_time: Date.UTC(2025, 10, 22, 12, 5) }] });
    const e = mapZoom({ event: 'meeting.ended', payload: { object: { ...obj, end_time: '2025-11-22T12:30:00Z' } } }, NOW);
    expect(e).toMatchObject({ events: [{ event: 'conf.end', end_time: Date.UTC(2025, 10, 22, 12, 30), error: null }] });
    expect(mapZoom({ event: 'meeting.sharing_started', payload: {} }, NOW)).toEqual({
      kind: 'ignored',
      event: 'meeting.sharing_started',
    });
    expect(() => mapZoom({ event: 'meeting.started', payload: { object: { id: 1 } } }, NOW)).toThrow(EventInputError);
  });

  it('never throws anything but EventInputError on random bodies', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ event: fc.constantFrom('meeting.started', 'meeting.participant_left'), payload: fc.anything() }),
        ),
        (v) => {
          try {
            mapZoom(v, NOW);
          } catch (e) {
            expect(e).toBeInstanceOf(EventInputError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('iso', () => {
  it('formats exactly as Date#toISOString, for any time and in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 })), (times) => {
        for (const t of times) expect(iso(t)).toBe(new Date(t).toISOString());
      }),
      { numRuns: 500 },
    );
    // Same second, other milliseconds (the per-second cache), and seconds 4,096 apart (the same cache slot).
    const same = [1_763_812_800_123, 1_763_812_800_999, 1_763_812_800_000, 1_763_812_800_000 + 4_096_000, -1_001, -1_999];
    for (const t of [0, -1, 1, 86_399_999, 86_400_000, -86_400_000, 253_402_300_800_000, 1.5, ...same]) {
      expect(iso(t)).toBe(new Date(t).toISOString());
    }
    expect(iso(null)).toBeNull();
  });
});

describe('user_data memo', () => {
  // Issue 16 soak: the memo was cleared when full, so its size (and the heap) climbed
  // for 4,096 distinct texts and started over; it now drops the oldest and stays at the cap.
  it('holds exactly its cap once more distinct texts than that were parsed', () => {
    const { cap } = userDataMemoSize();
    for (let i = 0; i < cap + 10; i++) {
      parseConfEvent(
        {
          event: 'conf.joined',
          id: 'c',
          join_time: 1763812800,
          part_uri: '+7000',
          call_id: `k${i}`,
          user_data: `{"person":"memo-${i}"}`,
        },
        0,
        NOW,
      );
    }
    expect(userDataMemoSize().count).toBe(cap);
    const ev = parseConfEvent(
      { event: 'conf.joined', id: 'c', join_time: 1763812800, part_uri: '+7000', call_id: 'k', user_data: '{"person":"memo-3"}' },
      0,
      NOW,
    );
    expect(ev.person).toBe('memo-3');
  });
});
