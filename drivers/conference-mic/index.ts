export { conferenceMicDriver, ConferenceMicConfig } from './driver.js';
export { ConferenceMicSimulator, startConferenceMicSimulator, trackingMockBinding } from './simulator.js';
export * from './protocol.js';
export { TaidenParser, taidenPosition } from './taiden.js';
export { SdcParser, parseSdcBody, sdcChecksum, sdcFrame } from './sdc8000.js';
export { ConfideaParser, parseConfidea, confideaDatagram } from './confidea.js';
