import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFunction,
  encodeFunction,
  parseTally,
  parseVmixXml,
  tallyInputs,
  type VmixMessage,
  VmixParser,
} from './protocol.js';

const XML_DOC =
  '<vmix><version>27.0.0.49</version><inputs><input key="k1" number="1" type="Capture" title="Kamera – Präsentator">x</input>' +
  '<input key="k2" number="2" type="Image" title="Logo &amp; Text"/></inputs><active>1</active><preview>2</preview></vmix>\r\n';

/** A recorded-style session transcript (server → client), per the vMix TCP API page (vmix.com/help28/TCPAPI.html, "Responses"). */
const TRANSCRIPT = Buffer.concat([
  Buffer.from('VERSION OK 27.0.0.49\r\nSUBSCRIBE OK TALLY\r\n'),
  Buffer.from(`XML ${Buffer.byteLength(XML_DOC)}\r\n${XML_DOC}`),
  Buffer.from('TALLY OK 1200\r\nFUNCTION OK Completed\r\nTALLY OK 2100\r\nFUNCTION ER Input not found\r\nPING OK PONG\r\n'),
]);

function parseAll(chunks: Buffer[]): VmixMessage[] {
  const p = new VmixParser();
  return chunks.flatMap((c) => p.push(c));
}

describe('vMix response parser', () => {
  it.each([
    ['FUNCTION OK Completed\r\n', { kind: 'status', command: 'FUNCTION', ok: true, text: 'Completed' }],
    ['FUNCTION OK PreviewInput\r\n', { kind: 'status', command: 'FUNCTION', ok: true, text: 'PreviewInput' }],
    ['FUNCTION ER Input not found\r\n', { kind: 'status', command: 'FUNCTION', ok: false, text: 'Input not found' }],
    ['TALLY OK 0121\r\n', { kind: 'status', command: 'TALLY', ok: true, text: '0121' }],
    ['SUBSCRIBE OK TALLY\r\n', { kind: 'status', command: 'SUBSCRIBE', ok: true, text: 'TALLY' }],
    ['VERSION OK 27.0.0.49\r\n', { kind: 'status', command: 'VERSION', ok: true, text: '27.0.0.49' }],
    ['XML ER\r\n', { kind: 'status', command: 'XML', ok: false, text: '' }],
    ['ACTS OK Input 1 1\r\n', { kind: 'status', command: 'ACTS', ok: true, text: 'Input 1 1' }],
    ['XML 9\r\n<vmix/>\r\n', { kind: 'data', command: 'XML', text: '', body: '<vmix/>' }],
    ['hello there\r\n', { kind: 'garbage', line: 'hello there' }],
  ])('%j', (wire, expected) => {
    expect(parseAll([Buffer.from(wire)])).toEqual([expected]);
  });

  it('counts the XML length in bytes, not characters, across chunks', () => {
    const msgs = parseAll([TRANSCRIPT.subarray(0, 60), TRANSCRIPT.subarray(60, 61), TRANSCRIPT.subarray(61)]);
    const xml = msgs.find((m) => m.kind === 'data');
    expect(xml).toMatchObject({ command: 'XML', body: XML_DOC.slice(0, -2) });
    expect(msgs.map((m) => m.kind)).toEqual(['status', 'status', 'data', 'status', 'status', 'status', 'status', 'status']);
  });

  it('waits for the whole body before answering', () => {
    const p = new VmixParser();
    expect(p.push(Buffer.from('XML 21\r\n<vmix>'))).toEqual([]);
    expect(p.push(Buffer.from('</vmix>'))).toEqual([]);
    expect(p.push(Buffer.from('123456\r\nTALLY OK 1\r\n'))).toEqual([
      { kind: 'data', command: 'XML', text: '', body: '<vmix></vmix>123456' },
      { kind: 'status', command: 'TALLY', ok: true, text: '1' },
    ]);
  });

  it('property: the transcript re-chunked at random points parses the same', () => {
    const whole = parseAll([TRANSCRIPT]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: TRANSCRIPT.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), TRANSCRIPT.length];
        const chunks = points.slice(1).map((end, i) => TRANSCRIPT.subarray(points[i], end));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it('property: random bytes never throw, and a valid line after garbage still parses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        const p = new VmixParser();
        p.push(Buffer.from(bytes));
        // Whatever state garbage left, a newline resynchronises on the next response
        // unless the garbage declared a body; reset() covers that on reconnect.
        p.reset();
        expect(p.push(Buffer.from('TALLY OK 12\r\n'))).toEqual([{ kind: 'status', command: 'TALLY', ok: true, text: '12' }]);
      }),
    );
  });
});

describe('vMix helpers', () => {
  it('parses tally digits', () => {
    expect(parseTally('0121')).toEqual(['off', 'program', 'preview', 'program']);
    expect(tallyInputs(parseTally('0210'))).toEqual({ program: 3, preview: 2 });
    expect(tallyInputs(parseTally('000'))).toEqual({ program: null, preview: null });
  });

  it('encodes FUNCTION with URL-encoded query and refuses unknown names', () => {
    expect(encodeFunction('Cut')).toBe('FUNCTION Cut\r\n');
    expect(encodeFunction('PreviewInput', { Input: 5 })).toBe('FUNCTION PreviewInput Input=5\r\n');
    expect(encodeFunction('SetOutput2', { Value: 'Input', Input: 'Cam & 1' })).toBe(
      'FUNCTION SetOutput2 Value=Input&Input=Cam%20%26%201\r\n',
    );
    expect(() => encodeFunction('NoSuchFunction')).toThrow(/unknown vMix function/);
    expect(decodeFunction('SetOutput2 Value=Input&Input=Cam%20%26%201')).toEqual({
      name: 'SetOutput2',
      params: { Value: 'Input', Input: 'Cam & 1' },
    });
  });

  it('reads inputs, active and preview from XML', () => {
    expect(parseVmixXml(XML_DOC)).toEqual({
      version: '27.0.0.49',
      inputs: [
        { number: 1, key: 'k1', title: 'Kamera – Präsentator', type: 'Capture' },
        { number: 2, key: 'k2', title: 'Logo & Text', type: 'Image' },
      ],
      program: 1,
      preview: 2,
    });
    expect(parseVmixXml('<garbage')).toEqual({ version: null, inputs: [], program: null, preview: null });
  });
});
