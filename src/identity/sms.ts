// SMS codes through the Twilio Messages API (docs/twilio.md §3) with the
// account of `[twilio]`: POST …/Messages.json {To, From, Body}. The request
// itself is the twilio module's (twilioPost: Basic auth, Twilio's errors
// without the token).
import type { TwilioConfig } from '../twilio/config.js';
import { twilioPost } from '../twilio/rest.js';
import type { CodeSender } from './service.js';

export class TwilioSmsSender implements CodeSender {
  constructor(
    private readonly cfg: TwilioConfig,
    private readonly timeoutMs: number,
  ) {}

  async send(to: string, message: { subject: string; text: string }): Promise<void> {
    await twilioPost(
      this.cfg,
      'Messages.json',
      { To: to, From: this.cfg.from, Body: message.text },
      { timeoutMs: this.timeoutMs },
    );
  }
}
