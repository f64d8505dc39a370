// Small pieces of Twilio's REST behaviour the stand-in needs (docs/twilio.md §1.1):
// its error type and the phone-number shapes its validation errors are about.
import { randomBytes } from 'node:crypto';
import type { FormParams } from './twilio-callbacks.js';

export const TWILIO_ERRORS_URL = 'https://www.twilio.com/docs/errors/';
export const E164 = /^\+[1-9]\d{1,14}$/;
// 21212: E.164, 10-digit US/Canada with any separators, or (SMS) an alphanumeric sender of ≤ 11.
export const US_10 = /^\D*(\d\D*){10}$/;
export const ALNUM_SENDER = /^(?=.*[a-zA-Z])[a-zA-Z0-9 ]{1,11}$/;

export class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function isAbsoluteHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export function first(params: FormParams, name: string): string | null {
  for (const [n, v] of params) if (n === name) return v;
  return null;
}

export function all(params: FormParams, name: string): string[] {
  return params.filter(([n]) => n === name).map(([, v]) => v);
}
