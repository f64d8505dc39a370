import { ERROR_CODES } from './methods.js';

/** Errors the client raises itself (no answer from the agent). Chosen so they never collide with the agent's codes. */
export const CLIENT_ERROR_CODES = {
  /** The agent refused the token (WebSocket close 4401). The client does not retry. */
  UNAUTHORIZED: 4401,
  /**
   * The agent closed the connection because this client fell behind reading
   * (close 4408, more than `[api] max_queued_bytes` unwritten). Calls still
   * waiting fail with it; the client reconnects and renews its subscriptions.
   */
  TOO_SLOW: 4408,
  /**
   * A request larger than the agent's `[api] max_frame_bytes`. Refused by the
   * client before sending when it knows the limit (from `system.info`); the
   * connection stays open. Also what calls fail with when the agent closes the
   * socket with 1009 (its limit was lower than the client knew); then the
   * client reconnects.
   */
  MESSAGE_TOO_BIG: 1009,
  /** The agent closed the connection on a frame that was not valid UTF-8 (close 1007); the client reconnects. */
  INVALID_UTF8: 1007,
  /** The call could not be sent, or the connection was lost before the answer. */
  NOT_CONNECTED: -32010,
  /** No answer within `callTimeoutMs`. */
  CALL_TIMEOUT: -32011,
  /** close() was called. */
  CLOSED: -32012,
} as const;

export type ErrorName = keyof typeof ERROR_CODES | keyof typeof CLIENT_ERROR_CODES;

const NAMES = new Map<number, ErrorName>([
  ...Object.entries(ERROR_CODES).map(([k, v]) => [v, k as ErrorName] as const),
  ...Object.entries(CLIENT_ERROR_CODES).map(([k, v]) => [v, k as ErrorName] as const),
]);

/** A failed call: `code` is the numeric JSON-RPC code, `name` its stable name (e.g. DEVICE_OFFLINE). */
export class RpcError extends Error {
  readonly code: number;
  readonly codeName: ErrorName | 'UNKNOWN';
  readonly data?: unknown;
  readonly method?: string;
  constructor(code: number, message: string, data?: unknown, method?: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.codeName = NAMES.get(code) ?? 'UNKNOWN';
    this.data = data;
    this.method = method;
  }
  /** `err.is('DEVICE_OFFLINE')` instead of comparing numbers. */
  is(name: ErrorName): boolean {
    return this.codeName === name;
  }
}
