// The DSP blocks the Tesira simulator plays, from Biamp's TTP attribute tables
// (tesira-help.biamp.com/System_Control/Tesira_Text_Protocol/Attribute_tables/):
// Level (Control_Blocks/LevelControl.html), Mute (Control_Blocks/MuteControl.html)
// and Standard Mixer (Mixer_Blocks/StandardMixer.html). Each attribute lists its
// indexes and the commands the table allows; values live in the block's design
// object (channels/mutes, so tests can read them) or in a side map.
import type { TtpValue } from './simulator-codec.js';

export type Verb = 'get' | 'set' | 'increment' | 'decrement' | 'toggle' | 'subscribe' | 'unsubscribe';
export const VERBS: readonly string[] = ['get', 'set', 'increment', 'decrement', 'toggle', 'subscribe', 'unsubscribe'];

export interface TesiraBlock {
  kind: 'level' | 'mute' | 'mixer';
  /**
   * level: channel → dB (a boolean there is that channel's mute); mute: channel → muted;
   * mixer: input → input level in dB. Channels are 1…the highest key.
   */
  channels: Record<number, number | boolean>;
  /** level: channel → mute; mixer: input → input mute (missing entries start false). */
  mutes?: Record<number, boolean>;
  /** mixer: number of outputs (default 1); outputs start at 0 dB, unmuted, every crosspoint off. */
  outputs?: number;
}

type ValueKind = 'level' | 'bool' | 'int' | 'text' | 'levels' | 'bools';
type IndexName = 'channel' | 'input' | 'output';
export interface AttributeSpec {
  kind: ValueKind;
  indexes: readonly IndexName[];
  verbs: readonly Verb[];
}

const GET: Verb[] = ['get'];
const GET_SET: Verb[] = ['get', 'set'];
const NUMERIC: Verb[] = ['get', 'set', 'increment', 'decrement'];
const SWITCH: Verb[] = ['get', 'set', 'toggle'];
const SUB: Verb[] = ['subscribe', 'unsubscribe'];
const spec = (kind: ValueKind, indexes: IndexName[], verbs: Verb[]): AttributeSpec => ({ kind, indexes, verbs });

const MUTE_ATTRIBUTES: Record<string, AttributeSpec> = {
  ganged: spec('bool', [], GET),
  label: spec('text', ['channel'], GET_SET),
  mute: spec('bool', ['channel'], [...SWITCH, ...SUB]),
  mutes: spec('bools', [], ['get', ...SUB]),
  numChannels: spec('int', [], GET),
};
const ATTRIBUTES: Record<TesiraBlock['kind'], Record<string, AttributeSpec>> = {
  level: {
    ...MUTE_ATTRIBUTES,
    level: spec('level', ['channel'], [...NUMERIC, ...SUB]),
    levels: spec('levels', [], ['get', ...SUB]),
    maxLevel: spec('level', ['channel'], NUMERIC),
    minLevel: spec('level', ['channel'], NUMERIC),
  },
  mute: MUTE_ATTRIBUTES,
  // The Standard Mixer table offers no subscriptions.
  mixer: {
    crosspoint: spec('bool', ['input', 'output'], SWITCH),
    inputLabel: spec('text', ['input'], GET_SET),
    inputLevel: spec('level', ['input'], NUMERIC),
    inputMaxLevel: spec('level', ['input'], NUMERIC),
    inputMinLevel: spec('level', ['input'], NUMERIC),
    inputMute: spec('bool', ['input'], SWITCH),
    numInputs: spec('int', [], GET),
    numOutputs: spec('int', [], GET),
    outputLabel: spec('text', ['output'], GET_SET),
    outputLevel: spec('level', ['output'], NUMERIC),
    outputMaxLevel: spec('level', ['output'], NUMERIC),
    outputMinLevel: spec('level', ['output'], NUMERIC),
    outputMute: spec('bool', ['output'], SWITCH),
  },
};

/**
 * The interface named in `-ERR '<attr>' is not supported by <interface>::Attributes` (the form
 * is TTP Responses'; only TextSession is printed there). LevelControlInterface is the name seen in
 * published transcripts of Level blocks; the other two are our guesses.
 */
const INTERFACE: Record<TesiraBlock['kind'], string> = {
  level: 'LevelControlInterface',
  mute: 'MuteControlInterface',
  mixer: 'StandardMixerInterface',
};

/** The index name in an INVALID_PARAMETER error: `channelIndex` is TTP Responses'; the mixer's are ours. */
const INDEX_NAME: Record<IndexName, string> = { channel: 'channelIndex', input: 'inputIndex', output: 'outputIndex' };

/** The level range of the tables (minLevel from -100.0, maxLevel up to 12.0 dB). */
const FLOOR = -100;
const CEILING = 12;

export class BlockModel {
  private readonly extra = new Map<string, TtpValue>();

  constructor(readonly design: TesiraBlock) {
    const { kind, channels } = design;
    const n = Math.max(1, ...Object.keys(channels).map(Number));
    const mutes = (design.mutes ??= {});
    for (let ch = 1; ch <= n; ch++) {
      const v = channels[ch];
      if (kind === 'mute') channels[ch] = v === true;
      else {
        if (typeof v === 'boolean') mutes[ch] = v;
        channels[ch] = typeof v === 'number' ? v : 0;
        mutes[ch] ??= false;
      }
    }
  }

  get attributes(): Record<string, AttributeSpec> {
    return ATTRIBUTES[this.design.kind];
  }

  get interfaceName(): string {
    return INTERFACE[this.design.kind];
  }

  count(index: IndexName): number {
    return index === 'output' ? (this.design.outputs ?? 1) : Object.keys(this.design.channels).length;
  }

  indexName(index: IndexName): string {
    return INDEX_NAME[index];
  }

  read(attr: string, idx: readonly number[]): TtpValue {
    const { channels, mutes = {} } = this.design;
    const [i = 0] = idx;
    const all = Object.keys(channels).map(Number);
    switch (attr) {
      case 'level':
      case 'inputLevel':
        return channels[i] as number;
      case 'mute':
        return this.design.kind === 'mute' ? (channels[i] as boolean) : (mutes[i] ?? false);
      case 'inputMute':
        return mutes[i] ?? false;
      case 'levels':
        return all.map((ch) => channels[ch] as number);
      case 'mutes':
        return all.map((ch) => this.read('mute', [ch]) as boolean);
      case 'numChannels':
      case 'numInputs':
        return all.length;
      case 'numOutputs':
        return this.count('output');
    }
    const kind = this.attributes[attr]?.kind;
    const fallback = /[mM]inLevel$/.test(attr)
      ? FLOOR
      : /[mM]axLevel$/.test(attr)
        ? CEILING
        : kind === 'text'
          ? ''
          : kind === 'bool'
            ? false
            : 0;
    return this.extra.get(`${attr}|${idx.join('|')}`) ?? fallback;
  }

  /** Stores `v`; a level is held inside its minimum and maximum (the tables' ranges). Returns the stored value. */
  write(attr: string, idx: readonly number[], v: TtpValue): TtpValue {
    const { channels, mutes = {} } = this.design;
    const [i = 0] = idx;
    let value = v;
    if (typeof v === 'number') {
      const prefix = attr.startsWith('input') ? 'input' : attr.startsWith('output') ? 'output' : '';
      const min = this.read(prefix ? `${prefix}MinLevel` : 'minLevel', idx) as number;
      const max = this.read(prefix ? `${prefix}MaxLevel` : 'maxLevel', idx) as number;
      if (/MinLevel$|^minLevel$/.test(attr)) value = Math.min(Math.max(v, FLOOR), max);
      else if (/MaxLevel$|^maxLevel$/.test(attr)) value = Math.max(Math.min(v, CEILING), min);
      else value = Math.min(Math.max(v, min), max);
    }
    if (attr === 'level' || attr === 'inputLevel') channels[i] = value as number;
    else if (attr === 'mute' && this.design.kind === 'mute') channels[i] = value as boolean;
    else if (attr === 'mute' || attr === 'inputMute') mutes[i] = value as boolean;
    else this.extra.set(`${attr}|${idx.join('|')}`, value);
    return value;
  }
}
