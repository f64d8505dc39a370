// Login and the room page. The token lives in sessionStorage (never in the
// page URL); a token the agent refuses brings the login back, never the room.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type ConnectionState, RoomAgentClient } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import { AvPanel } from './av.js';
import { CamerasPanel } from './cameras.js';
import { DevicesPanel } from './devices.js';
import { DirectorPanel } from './director.js';
import { MeetingPanel } from './meeting.js';
import { ScenariosPanel } from './scenarios.js';
import { Ctx, type DeviceRecord, type Notice, describeError, useConsole, useTopic } from './shared.js';

const TOKEN_KEY = 'room-agent.token';

type Session = { client: RoomAgentClient; token: string } | null;

export function App() {
  const [session, setSession] = useState<Session>(null);
  const [loginError, setLoginError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function login(token: string): Promise<void> {
    setBusy(true);
    setLoginError(null);
    const client = new RoomAgentClient({ url: location.origin, token });
    try {
      await client.connect();
      sessionStorage.setItem(TOKEN_KEY, token);
      setSession({ client, token });
    } catch (e) {
      client.close();
      sessionStorage.removeItem(TOKEN_KEY);
      setLoginError(
        e instanceof RpcError && e.is('UNAUTHORIZED')
          ? 'The agent refused this token.'
          : `Cannot reach the agent: ${describeError(e)}`,
      );
    } finally {
      setBusy(false);
    }
  }

  function logout(reason: string | null): void {
    session?.client.close();
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
    setLoginError(reason);
  }

  useEffect(() => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) void login(saved);
  }, []);

  if (!session) return <Login onLogin={login} error={loginError} busy={busy} />;
  return <Room session={session} onLogout={logout} />;
}

function Login(props: { onLogin(token: string): void; error: string | null; busy: boolean }) {
  const [token, setToken] = useState('');
  return (
    <main class="login">
      <form
        id="login"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) props.onLogin(token.trim());
        }}
      >
        <h1>Room console</h1>
        <p>Sign in with an API token of this room (viewer, operator or admin).</p>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={props.busy}>
          {props.busy ? 'Checking…' : 'Sign in'}
        </button>
        {props.error && (
          <p class="error" role="alert" id="login-error">
            {props.error}
          </p>
        )}
      </form>
    </main>
  );
}

/** Devices by id, kept live from the `devices` topic (shared by every panel). */
function reduceDevices(prev: Map<string, DeviceRecord> | undefined, e: { snapshot: boolean; data: unknown }) {
  if (e.snapshot) return new Map((e.data as DeviceRecord[]).map((d) => [d.id, d]));
  const next = new Map(prev);
  const change = e.data as { device: string; status?: DeviceRecord['status']; state?: DeviceRecord['state'] };
  const d = next.get(change.device);
  if (!d) return next;
  next.set(change.device, {
    ...d,
    ...(change.status ? { status: change.status } : {}),
    ...(change.state ? { state: { ...d.state, ...change.state } } : {}),
  });
  return next;
}

function Room({ session, onLogout }: { session: NonNullable<Session>; onLogout(reason: string | null): void }) {
  const { client, token } = session;
  const [conn, setConn] = useState<{ state: ConnectionState; detail: string }>({ state: client.state, detail: '' });
  const [notices, setNotices] = useState<Notice[]>([]);
  const [epoch, setEpoch] = useState(0);
  useEffect(
    () =>
      client.onState((state, detail) => {
        setConn({ state, detail });
        if (state === 'open') setEpoch((n) => n + 1);
        if (state === 'unauthorized') onLogout('The agent no longer accepts this token.');
      }),
    [client],
  );
  const ctx = useMemo(
    () => ({
      client,
      token,
      epoch,
      notify(kind: Notice['kind'], text: string) {
        const id = Date.now() + Math.random();
        setNotices((n) => [...n.slice(-4), { id, kind, text }]);
        setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), kind === 'error' ? 12_000 : 4_000);
      },
    }),
    [client, token, epoch],
  );
  return (
    <Ctx.Provider value={ctx}>
      <RoomPage conn={conn} onLogout={() => onLogout(null)} />
      <div class="notices" aria-live="polite">
        {notices.map((n) => (
          <p key={n.id} class={`notice notice-${n.kind}`}>
            {n.text}
          </p>
        ))}
      </div>
    </Ctx.Provider>
  );
}

function RoomPage({ conn, onLogout }: { conn: { state: ConnectionState; detail: string }; onLogout(): void }) {
  const devices = useTopic('devices', reduceDevices);
  const list = [...(devices.state?.values() ?? [])];
  const { client } = useConsole();
  return (
    <div class="room" id="room">
      <header class="top">
        <h1>
          {client.info?.name ?? 'Room'}{' '}
          <small>{client.info ? `room ${client.info.room_id} · agent ${client.info.version}` : ''}</small>
        </h1>
        <nav>
          <a href="#devices">Devices</a>
          <a href="#cameras">Cameras</a>
          <a href="#meeting">Meeting</a>
          <a href="#director">Director</a>
          <a href="#av">Routing &amp; audio</a>
          <a href="#scenarios">Scenarios</a>
        </nav>
        <span class={`conn conn-${conn.state}`} id="connection" title={conn.detail}>
          {conn.state === 'open' ? 'live' : conn.state}
        </span>
        <button type="button" class="link" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <main class="grid">
        <DevicesPanel devices={list} />
        <CamerasPanel devices={list.filter((d) => d.kind === 'camera')} />
        <MeetingPanel />
        <DirectorPanel />
        <AvPanel devices={list.filter((d) => d.kind === 'matrix' || d.kind === 'mixer' || d.kind === 'audio')} />
        <ScenariosPanel />
      </main>
    </div>
  );
}
