// The recorder driver: ffmpeg recording into segmented MP4 with an SQLite
// index, free-space guard, and the `graphic` overlays. The simulator swaps
// the input for an ffmpeg test pattern, so the demo records without cameras.
import { defineDriver } from '../../src/host/contract.js';
import { createRecorder } from './driver.js';
import { RecorderConfigSchema } from './schema.js';

export const TEST_PATTERN = 'testsrc2=size=1280x720:rate=25';

export const recorderDriver = defineDriver({
  name: 'recorder',
  kind: 'recorder',
  description: 'Records the room with ffmpeg (segmented MP4, SQLite index) and burns in overlay graphics.',
  config: RecorderConfigSchema,
  create: (config, ctx) => createRecorder(config, ctx),
  async simulate() {
    return { endpoint: { input: TEST_PATTERN, input_format: 'lavfi', realtime: true }, async stop() {} };
  },
});
