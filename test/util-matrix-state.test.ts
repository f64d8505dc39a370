// matrixState: the state patch of the configured-label matrix drivers.
import { describe, expect, it } from 'vitest';
import { matrixState, numberedLabels } from '../src/util/matrix-state.js';

describe('matrixState', () => {
  it('publishes sizes, copies of both route tables and numbered labels', () => {
    const video = { '1': 2, '2': null };
    const audio = { '1': 3, '2': 1 };
    const s = matrixState({ inputs: 3, outputs: 2, video, audio, inputLabels: ['Cam', 'PC'], outputLabels: [] });
    expect(s).toEqual({
      inputs: 3,
      outputs: 2,
      routes: { '1': 2, '2': null },
      audio_routes: { '1': 3, '2': 1 },
      input_labels: { '1': 'Cam', '2': 'PC', '3': '3' },
      output_labels: { '1': '1', '2': '2' },
    });
    video['1'] = 9;
    expect((s.routes as Record<string, number>)['1']).toBe(2);
  });

  it('a video-only model has no audio_routes key', () => {
    const s = matrixState({ inputs: 1, outputs: 1, video: { '1': 1 }, audio: null, inputLabels: [], outputLabels: [] });
    expect(Object.keys(s)).toEqual(['inputs', 'outputs', 'routes', 'input_labels', 'output_labels']);
  });

  it('numberedLabels ignores names beyond n', () => {
    expect(numberedLabels(['a', 'b', 'c'], 2)).toEqual({ '1': 'a', '2': 'b' });
    expect(numberedLabels([], 0)).toEqual({});
  });
});
