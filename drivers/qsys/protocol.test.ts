import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeQrc,
  describeQrcError,
  encodeQrcRequest,
  engineDeviceStatus,
  parseChangeGroupPoll,
  parseEngineStatus,
  type QrcMessage,
  QrcParser,
} from './protocol.js';

// Server → client frames as documented (QSC QRC Commands, q-syshelp.qsc.com External_Control_APIs/QRC), each ending in NUL.
const FRAMES = [
  '{"jsonrpc":"2.0","method":"EngineStatus","params":{"State":"Active","DesignName":"Salle Réunion","DesignCode":"qX1","IsRedundant":false,"IsEmulator":false}}',
  '{"jsonrpc":"2.0","result":true,"id":1}',
  '{"jsonrpc":"2.0","result":[{"Name":"ProgramGain","Value":-10,"String":"-10.0dB","Position":0.75}],"id":2}',
  '{"jsonrpc":"2.0","method":"ChangeGroup.Poll","params":{"Id":"g1","Changes":[{"Name":"gain","Value":-10,"String":"-10.0dB","Position":0.6}]}}',
  '{"jsonrpc":"2.0","method":"ChangeGroup.Poll","params":{"Id":"g1","Changes":[{"Component":"Mixer","Name":"mute","Value":1,"String":"true","Position":1}]}}',
  '{"jsonrpc":"2.0","error":{"code":8,"message":"Unknown control"},"id":3}',
];
const TRANSCRIPT = Buffer.from(FRAMES.map((f) => `${f}\0`).join(''), 'utf8');

function parseChunks(chunks: Buffer[]): QrcMessage[] {
  const p = new QrcParser();
  return chunks.flatMap((c) => p.push(c));
}

describe('QRC parser', () => {
  it('decodes each documented frame', () => {
    const msgs = parseChunks([TRANSCRIPT]);
    expect(msgs.map((m) => m.kind)).toEqual(['notification', 'result', 'result', 'notification', 'notification', 'error']);
    expect(msgs[0]).toMatchObject({ method: 'EngineStatus', id: null });
    expect(msgs[1]).toEqual({ kind: 'result', id: 1, result: true });
    expect(msgs[5]).toEqual({ kind: 'error', id: 3, code: 8, message: 'Unknown control', data: undefined });
    expect(parseChangeGroupPoll((msgs[4] as { params: unknown }).params)).toEqual({
      id: 'g1',
      changes: [{ component: 'Mixer', name: 'mute', value: 1, string: 'true' }],
    });
  });

  it.each([
    ['not json', 'garbage'],
    ['[1,2]', 'garbage'],
    ['{"jsonrpc":"2.0"}', 'garbage'],
    ['{"jsonrpc":"2.0","method":"NoOp","params":{},"id":7}', 'notification'],
    ['{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":null}', 'error'],
  ])('%s → %s', (text, kind) => {
    expect(decodeQrc(text).kind).toBe(kind);
  });

  it('encodes requests with a numeric id and a NUL', () => {
    expect(encodeQrcRequest(5, 'Control.Set', { Name: 'g', Value: -3 })).toBe(
      '{"jsonrpc":"2.0","id":5,"method":"Control.Set","params":{"Name":"g","Value":-3}}\0',
    );
  });

  it.each([
    [-32700, 'Parse error', 'parse error (-32700)'],
    [-32601, '', 'method not found (-32601)'],
    [7, 'Unknown component "X"', 'unknown component (7): Unknown component "X"'],
    [8, 'Unknown control', 'unknown control (8)'],
    [10, 'Logon required', 'logon required (10)'],
    [99, 'boom', 'error (99): boom'],
  ])('error code %i maps to a readable message', (code, msg, text) => {
    expect(describeQrcError(code, msg)).toBe(text);
  });

  it.each([
    ['Active', 'online'],
    ['Standby', 'offline'],
    ['Idle', 'offline'],
    ['Fault', 'error'],
  ])('engine state %s → device %s', (state, status) => {
    const e = parseEngineStatus({ State: state, DesignName: 'D' });
    expect(e && engineDeviceStatus(e).status).toBe(status);
  });

  it('property: the transcript re-chunked at random points (even inside UTF-8) parses the same', () => {
    const whole = parseChunks([TRANSCRIPT]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: TRANSCRIPT.length - 1 }), { maxLength: 50 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), TRANSCRIPT.length];
        expect(parseChunks(points.slice(1).map((end, i) => TRANSCRIPT.subarray(points[i], end)))).toEqual(whole);
      }),
    );
  });

  it('property: random bytes never throw, and a good frame after a NUL still parses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const p = new QrcParser();
        p.push(Buffer.from(bytes));
        const out = p.push(Buffer.from('\0{"jsonrpc":"2.0","result":true,"id":9}\0'));
        expect(out.at(-1)).toEqual({ kind: 'result', id: 9, result: true });
      }),
    );
  });
});
