// A process with the agent's last-resort handler (for test/last-resort.test.ts):
// throws one uncaught error of the kind named on the command line from a timer,
// the way an event handler would, then says whether it is still serving.
import pino from 'pino';
import { AgentError } from '../../src/util/errors.js';
import { installLastResortHandler } from '../../src/util/last-resort.js';

const logger = pino({ level: 'info' });
installLastResortHandler(logger);
const kind = process.argv[2];
const faults: Record<string, () => Error> = {
  reset: () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
  'bad-frame': () =>
    Object.assign(new RangeError('Invalid WebSocket frame: invalid UTF-8 sequence'), { code: 'WS_ERR_INVALID_UTF8' }),
  'bad-http': () => Object.assign(new Error('Parse Error: Invalid method encountered'), { code: 'HPE_INVALID_METHOD' }),
  'agent-error': () => new AgentError('INVALID_PARAMS', 'preset 99 does not exist'),
  'own-type-error': () => new TypeError("Cannot read properties of undefined (reading 'status')"),
};
setTimeout(() => {
  throw faults[kind!]!();
}, 10);
setTimeout(() => {
  logger.info('still serving');
  process.exit(0);
}, 300);
