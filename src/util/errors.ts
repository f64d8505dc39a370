// Errors that carry a stable code, so the API can map them to JSON-RPC codes
// and UIs can react without parsing messages.
export const ERROR_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  FORBIDDEN: 4003,
  NOT_FOUND: 4004,
  DEVICE_NOT_FOUND: 4100,
  ACTION_NOT_FOUND: 4101,
  DEVICE_OFFLINE: 4102,
  DEVICE_TIMEOUT: 4103,
  DEVICE_ERROR: 4104,
  DEVICE_BUSY: 4105,
  CONFLICT: 4009,
  CODE_REFUSED: 4422,
  REPLY_TOO_LARGE: 4413,
  TOO_MANY_REQUESTS: 4429,
  UNAVAILABLE: 4503,
} as const;
export type ErrorCodeName = keyof typeof ERROR_CODES;

export class AgentError extends Error {
  readonly code: ErrorCodeName;
  readonly data?: unknown;
  constructor(code: ErrorCodeName, message: string, data?: unknown) {
    super(message);
    this.name = 'AgentError';
    this.code = code;
    this.data = data;
  }
}

/** Error raised by a device: the device said no, or never answered. */
export class DeviceError extends AgentError {
  constructor(message: string, code: ErrorCodeName = 'DEVICE_ERROR', data?: unknown) {
    super(code, message, data);
    this.name = 'DeviceError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
