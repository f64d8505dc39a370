// A real SMTP server in the test process (the `smtp-server` package) that
// keeps every message it accepts; optionally with AUTH and a refusal hook.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** When set, a message is refused with this SMTP reply text (computed from the message). */
  refuse: ((raw: string) => string | null) | null;
  close(): Promise<void>;
}

export async function startSmtpSink(auth?: { user: string; password: string }): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, mails: [], refuse: null, close: async () => undefined };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.password) return cb(null, { user: a.username });
      return cb(new Error('535 authentication failed'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const refusal = sink.refuse?.(raw) ?? null;
        if (refusal !== null) return cb(Object.assign(new Error(refusal), { responseCode: 550 }));
        sink.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** The code in a received message: the digits after "is" in "Your verification code for … is 123456." */
export function codeIn(raw: string): string {
  const body = raw.replace(/=\r?\n/g, '');
  const m = /verification code for [^\n]* is (\d+)\./.exec(body);
  if (!m?.[1]) throw new Error(`no code in message:\n${raw}`);
  return m[1];
}
