// config.get's redaction and config.apply's restore of placeholders (issue 21 item 1):
// literal secrets never shown, ${NAME} references shown as written, a get → edit → apply
// round trip keeps the secrets without revealing them.
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { literalSecrets, redactText, restoreRedacted } from '../src/config/versions/redact.js';

const SECRETS = ['Ak9;Xv@2%Lm"Qz7#', "Oq4@Rf%8;Nt'Wb3~", 'sw-pass-77', 'rtsp-pw-31', 'hookpart99', 'q-tok-55'];

const TEXT = `# the room
[agent]
room_id = "r1" # a comment that stays

[[agent.tokens]]
name = "admin"
token = "Ak9;Xv@2%Lm\\"Qz7#"
role = "admin"

[[agent.tokens]]
name = "panel"
token = "\${PANEL_TOKEN}"
role = "operator"

[[agent.tokens]]
name = "op"
token = 'Oq4@Rf%8;Nt''Wb3~'
role = "operator"

[devices.matrix]
driver = "extron-sis"
host = "10.0.0.5"
password = "sw-pass-77"

[devices.tcs]
driver = "tcs"
connectionString = "server=https://tcs; user=room; password=\\"\${TCS_PASSWORD}\\""

[alerts]
slack_webhook_url = "https://hooks.slack.com/services/T0/B0/hookpart99"

[video.streams.cam-1]
main = "rtsp://admin:rtsp-pw-31@10.0.0.21/live"
sub = "rtsp://10.0.0.21/sub?user=admin&token=q-tok-55&x=1"
ref = "rtsp://admin:\${CAM_PW}@10.0.0.21/live"
`.replace("'Oq4@Rf%8;Nt''Wb3~'", `"Oq4@Rf%8;Nt'Wb3~"`);

describe('config.get redaction', () => {
  it('finds every literal secret and no ${NAME} reference', () => {
    const found = literalSecrets(parse(TEXT)).map((s) => s.path.join('.'));
    expect(found.sort()).toEqual(
      [
        'agent.tokens.0.token',
        'agent.tokens.2.token',
        'devices.matrix.password',
        'devices.tcs.connectionString',
        'alerts.slack_webhook_url',
        'video.streams.cam-1.main',
        'video.streams.cam-1.sub',
      ].sort(),
    );
  });

  it('replaces literal secrets in place, keeps comments, references and layout', () => {
    const out = redactText(TEXT);
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain('room_id = "r1" # a comment that stays');
    expect(out).toContain('token = "${PANEL_TOKEN}"');
    // Under a secret key only a value made of references is shown; this one also holds literal text.
    expect(out).toContain('connectionString = "(redacted: devices.tcs.connectionString)"');
    expect(out).toContain('ref = "rtsp://admin:${CAM_PW}@10.0.0.21/live"');
    expect(out).toContain('password = "(redacted: devices.matrix.password)"');
    expect(out.split('\n').length).toBe(TEXT.split('\n').length);
    const doc = parse(out) as { agent: { tokens: { token: string }[] } };
    expect(doc.agent.tokens[0]?.token).toBe('(redacted: agent.tokens.0.token)');
  });

  it('a secret it cannot replace in place (multi-line string) is still never shown', () => {
    const text = `[agent]\nroom_id = "r1"\n\n[devices.m]\ndriver = "x"\npassword = """\nml-secret-42"""\n`;
    const out = redactText(text);
    expect(out).not.toContain('ml-secret-42');
    expect((parse(out) as { devices: { m: { password: string } } }).devices.m.password).toBe('(redacted: devices.m.password)');
  });

  it('an inline array of tokens is redacted on its line', () => {
    const text = `[agent]\nroom_id = "r1"\ntokens = [{ name = "a", token = "inline-secret-1", role = "admin" }]\n`;
    const out = redactText(text);
    expect(out).not.toContain('inline-secret-1');
    expect(out).toContain('token = "(redacted: agent.tokens.0.token)"');
  });
});

describe('config.apply restores placeholders', () => {
  it('a get → edit → apply round trip keeps the secrets', () => {
    const edited = redactText(TEXT).replace('host = "10.0.0.5"', 'host = "10.0.0.6"');
    const r = restoreRedacted(edited, TEXT, '/etc/room-agent/api.toml');
    expect('text' in r).toBe(true);
    const text = (r as { text: string }).text;
    expect(text).toBe(TEXT.replace('host = "10.0.0.5"', 'host = "10.0.0.6"'));
  });

  it('a placeholder moved to another key is refused with file, line and key', () => {
    const edited = `${redactText(TEXT)}\n[devices.cam]\ndriver = "visca"\nname = "(redacted: devices.matrix.password)"\n`;
    const r = restoreRedacted(edited, TEXT, 'api.toml');
    expect(r).toEqual({
      issues: [
        {
          file: 'api.toml',
          line: edited.split('\n').findIndex((l) => l === 'name = "(redacted: devices.matrix.password)"') + 1,
          key: 'devices.cam.name',
          message: 'holds the placeholder of devices.matrix.password; a redacted value can only stay at its own key',
        },
      ],
    });
  });

  it('a placeholder for a secret the running config does not have is refused', () => {
    const r = restoreRedacted(
      '[agent]\nroom_id = "r1"\n[devices.x]\ndriver = "y"\npassword = "(redacted: devices.x.password)"\n',
      TEXT,
      'api.toml',
    );
    expect(r).toMatchObject({ issues: [{ key: 'devices.x.password', line: 5 }] });
  });
});
