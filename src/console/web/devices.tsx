// Room overview: every device with its status, message, last error and restart count.
import { Badge, Card, type DeviceRecord, time } from './shared.js';

export function DevicesPanel({ devices }: { devices: DeviceRecord[] }) {
  const online = devices.filter((d) => d.status.status === 'online').length;
  return (
    <Card id="devices" title="Devices" extra={<span class="muted">{`${online} of ${devices.length} online`}</span>}>
      <table class="devices">
        <thead>
          <tr>
            <th>Device</th>
            <th>Kind</th>
            <th>Status</th>
            <th>Message</th>
            <th>Last error</th>
            <th title="Link re-established or driver restarted">Restarts</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.id} data-device={d.id} data-status={d.status.status}>
              <td>
                <strong>{d.name}</strong>
                <div class="muted">
                  {d.id} · {d.driver}
                  {d.simulated ? ' · simulated' : ''}
                </div>
              </td>
              <td>{d.kind}</td>
              <td>
                <Badge value={d.status.status} title={`since ${time(d.status.since)}`} />
              </td>
              <td class="wrap">{d.status.message}</td>
              <td class="wrap">
                {d.status.last_error ? (
                  <span title={d.status.last_error.at}>
                    {time(d.status.last_error.at)} {d.status.last_error.message}
                  </span>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
              <td class="num">{d.status.restarts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
