// The simulator's own table of camera models: which preset numbers a camera
// has and how it carries them in the `pp` byte of `8x 01 04 3F 0n pp FF`, and
// the pan/tilt speeds it accepts. Written from the vendors' command lists for
// the simulator only; the driver has its own reading (the driver's files are
// not imported here: test/simulator-independence.test.ts). Where this table and
// the driver disagree, the manual decides.

/** The models, named as the device config's `profile` key names a camera's family. */
export type SimulatedModelName = 'sony' | 'ptzoptics' | 'lumens' | 'generic';

export interface SimulatedModel {
  name: SimulatedModelName;
  /** The document the row is read from. */
  source: string;
  /** The preset number the camera's menu shows for `pp`: Sony counts from 1 ("PRESET No. − 1"), the others carry it as-is. */
  presetOfByte(pp: number): number;
  /** Whether the camera has a preset stored under `pp` it can set, recall and reset. */
  hasPresetByte(pp: number): boolean;
  /** Inclusive speed ranges of Pan-tiltDrive `8x 01 06 01 vv ww …` (vv: pan, ww: tilt); `vv` of Absolute/Relative too. */
  panSpeed: readonly [number, number];
  tiltSpeed: readonly [number, number];
}

const LUMENS: SimulatedModel = {
  name: 'lumens',
  source: 'Lumens VC-A51 RS-232 command set and VC-TR1 VISCA list: presets 0–127 as-is; pan speed up to 0x18, tilt up to 0x14',
  presetOfByte: (pp) => pp,
  hasPresetByte: (pp) => pp >= 0 && pp <= 127,
  panSpeed: [0x01, 0x18],
  tiltSpeed: [0x01, 0x14],
};

export const SIMULATED_MODELS: Record<SimulatedModelName, SimulatedModel> = {
  sony: {
    name: 'sony',
    source:
      'Sony SRG-X400 / BRC-X400 Command List (7/8) "PAN TILT DRIVE": vv 01–18, ww 01–17; (8/8) "PRESET": pp = PRESET No. − 1 (00–63)',
    // 00–63 hex: 100 presets, numbered 1–100 in the menu.
    presetOfByte: (pp) => pp + 1,
    hasPresetByte: (pp) => pp >= 0x00 && pp <= 0x63,
    panSpeed: [0x01, 0x18],
    tiltSpeed: [0x01, 0x17],
  },
  ptzoptics: {
    name: 'ptzoptics',
    source:
      'PTZOptics VISCA command list (12X-SDI manual p.54) and the HuddleCamHD command list p.36 of the same family: ' +
      'pan 0x01–0x18, tilt 0x01–0x14; presets 0–89 and 100–254 as-is, 90–99 and 255 run special functions',
    presetOfByte: (pp) => pp,
    hasPresetByte: (pp) => pp >= 0 && pp <= 0xfe && !(pp >= 90 && pp <= 99),
    panSpeed: [0x01, 0x18],
    tiltSpeed: [0x01, 0x14],
  },
  lumens: LUMENS,
  // The Lumens numbers and speeds under another name.
  generic: {
    ...LUMENS,
    name: 'generic',
    source:
      'No vendor document: a camera with the preset numbering of the Lumens list (0–127 as-is) and the narrower of the ' +
      'documented tilt ranges (PTZOptics, Lumens: 0x14)',
  },
};

/** A model given by name or as a row (tests may pass a model of their own). */
export function simulatedModel(m: SimulatedModel | SimulatedModelName | undefined): SimulatedModel {
  if (m === undefined) return SIMULATED_MODELS.sony;
  return typeof m === 'string' ? SIMULATED_MODELS[m] : m;
}
