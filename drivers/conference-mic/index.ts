export { conferenceMicDriver, ConferenceMicConfig } from './driver.js';
export { ConferenceMicSimulator, type ConferenceUnit, startConferenceMicSimulator } from './simulator.js';
export * from './protocol.js';
export { TAIDEN_START_TRACKING, TaidenParser, taidenPosition } from './taiden.js';
export { SdcParser, parseSdcBody, sdcChecksum, sdcFrame } from './sdc8000.js';
export { ConfideaParser, parseConfidea, confideaDatagram } from './confidea.js';
