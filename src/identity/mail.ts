// E-mailed codes: one nodemailer SMTP transport per agent, built from
// `[identity.smtp]`. nodemailer's own logging stays off (it would print the
// message, code included, at debug). nodemailer is loaded at the first send,
// not at start: a room that e-mails no code never loads it (the shipped bundle
// keeps it outside, like mqtt; ~1.2 MB of heap, docs/performance.md "lean start").
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { CodeSender } from './service.js';
import type { SmtpConfig } from './config.js';

export class SmtpSender implements CodeSender {
  private readonly options: SMTPTransport.Options;
  /** Made at the first send; a failed load is tried again at the next. */
  private transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | null = null;
  constructor(private readonly cfg: SmtpConfig) {
    const options: SMTPTransport.Options = {
      host: cfg.server,
      port: cfg.port,
      secure: cfg.secure,
      requireTLS: cfg.require_tls,
      tls: { rejectUnauthorized: cfg.reject_unauthorized },
      connectionTimeout: cfg.timeout_ms,
      greetingTimeout: cfg.timeout_ms,
      socketTimeout: cfg.timeout_ms,
      logger: false,
      debug: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    if (cfg.user !== undefined) options.auth = { user: cfg.user, pass: cfg.password ?? '' };
    this.options = options;
  }

  private transporter(): Promise<Transporter<SMTPTransport.SentMessageInfo>> {
    this.transport ??= import('nodemailer').then(
      ({ default: nodemailer }) => nodemailer.createTransport(this.options),
      (e: unknown) => {
        this.transport = null;
        throw e;
      },
    );
    return this.transport;
  }

  async send(to: string, message: { subject: string; text: string }): Promise<void> {
    try {
      const transport = await this.transporter();
      await transport.sendMail({ from: this.cfg.from, to, subject: message.subject, text: message.text });
    } catch (e) {
      throw new Error(describeSmtpError(e, this.cfg));
    }
  }

  close(): void {
    const transport = this.transport;
    this.transport = null;
    void transport?.then(
      (t) => t.close(),
      () => undefined,
    );
  }
}

/** What went wrong, naming the server and the SMTP reply, never the credentials. */
function describeSmtpError(e: unknown, cfg: SmtpConfig): string {
  const err = e as { message?: string; code?: string; responseCode?: number };
  const where = `SMTP server ${cfg.server}:${cfg.port}`;
  switch (err.code) {
    case 'EAUTH':
      return `${where} refused the login of user "${cfg.user ?? ''}" ([identity.smtp] user/password)`;
    case 'ECONNECTION':
    case 'ETIMEDOUT':
    case 'ESOCKET':
    case 'EDNS':
      return `${where} not reachable: ${err.message ?? err.code}`;
    case 'EENVELOPE':
      return `${where} refused the sender or recipient: ${err.message ?? ''}`;
    default:
      return `${where}: ${err.message ?? String(e)}`;
  }
}
