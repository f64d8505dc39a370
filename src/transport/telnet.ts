// Minimal Telnet option handling for control protocols (Tesira, Extron):
// strip IAC sequences from the data and refuse every option, which is what
// these devices need before they start the session. Not a Telnet client.
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

export class TelnetFilter {
  private state: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' = 'data';
  private verb = 0;
  /** Feed raw bytes; returns the payload without Telnet commands, and the replies to send. */
  push(chunk: Buffer): { data: Buffer; reply: Buffer | null } {
    const out: number[] = [];
    const reply: number[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else out.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            out.push(IAC);
            this.state = 'data';
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = 'opt';
          } else if (b === SB) this.state = 'sb';
          else this.state = 'data';
          break;
        case 'opt':
          if (this.verb === DO) reply.push(IAC, WONT, b);
          else if (this.verb === WILL) reply.push(IAC, DONT, b);
          this.state = 'data';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    return { data: Buffer.from(out), reply: reply.length ? Buffer.from(reply) : null };
  }
  reset(): void {
    this.state = 'data';
  }
}
