// The tcs device's in-meeting control actions (invite, disconnect, recording):
// the requests of control.ts sent through the client, each refusal turned into
// a DeviceError that names what failed (data.failure) and never a token.
import { Type } from '@sinclair/typebox';
import { defineAction } from '../../src/host/contract.js';
import { DeviceError } from '../../src/util/errors.js';
import { TcsAuthError, type TcsClient, TcsRequestError } from './client.js';
import {
  ControlError,
  type ControlRequest,
  classifyRefusal,
  conferenceRequest,
  conferenceState,
  disconnectPlan,
  inviteRequest,
  parseRecordings,
  participantListed,
  recordingRequest,
  recordingsRequest,
  refusal,
} from './control.js';
import type { ApiVersion } from './protocol.js';

const Id = Type.String({ minLength: 1, maxLength: 200, description: 'TrueConf conference id.' });
const Ident = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });

function toDeviceError(e: ControlError): DeviceError {
  return new DeviceError(`TrueConf ${e.message}`, 'DEVICE_ERROR', {
    failure: e.failure,
    status: e.status,
    reason: e.reason,
  });
}

export function controlActions(client: TcsClient, api: ApiVersion, afterChange: () => void) {
  /** One request; a refusal becomes a ControlError about `subject` (a user, a participant or the conference). */
  async function send(
    action: string,
    req: ControlRequest,
    what: 'user' | 'participant' | 'conference',
    subject: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    try {
      return await client.api(req.method, req.path, req.query ?? {}, signal, req.body);
    } catch (e) {
      if (e instanceof TcsRequestError) throw refusal(classifyRefusal(e.status, e.body, what), action, e.status, e.body, subject);
      if (e instanceof TcsAuthError) throw new ControlError('token_invalid', `${action}: ${e.message}`);
      throw new ControlError('server_error', `${action}: ${(e as Error).message}`);
    }
  }

  /** The conference exists and runs, or a clear error saying which of the two is not so. */
  async function requireRunning(action: string, id: string, signal: AbortSignal): Promise<void> {
    const body = await send(action, conferenceRequest(id), 'conference', `conference "${id}"`, signal);
    const state = conferenceState(body);
    if (state !== 'running') {
      throw new ControlError(
        'not_running',
        `${action}: the conference is not running (conference "${id}" is ${state ?? 'in an unknown state'})`,
      );
    }
  }

  /** Runs a control; every ControlError leaves as a DeviceError with data.failure. */
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw e instanceof ControlError ? toDeviceError(e) : e;
    }
  };

  return {
    invite: defineAction({
      description:
        'Invite a TrueConf user into a running conference (v3 POST /conferences/{id}/participants, v4 POST /conferences/{id}/invite).',
      params: Type.Object(
        { id: Id, user_id: Ident('TrueConf user id (login or login@server).') },
        { additionalProperties: false },
      ),
      run: (p, a) =>
        guarded(async () => {
          await requireRunning('invite', p.id, a.signal);
          await send('invite', inviteRequest(api, p.id, p.user_id), 'user', `user "${p.user_id}"`, a.signal);
          afterChange();
          return { conference: p.id, user_id: p.user_id, invited: true };
        }),
    }),
    disconnect: defineAction({
      description:
        'Remove a participant. v3: POST /users/{id}/disconnect after checking the participant is in this conference — ' +
        "this ends the user's whole session on the server, not only this conference. v4: not supported (no documented call).",
      params: Type.Object(
        { id: Id, participant: Ident('Participant id as the server lists it (TrueConf ID, login@server[/instance]).') },
        { additionalProperties: false },
      ),
      run: (p, a) =>
        guarded(async () => {
          const plan = disconnectPlan(api, p.id, p.participant);
          await requireRunning('disconnect', p.id, a.signal);
          const live = await send('disconnect', plan.check, 'conference', `conference "${p.id}"`, a.signal);
          if (!participantListed(live, p.participant)) {
            throw new ControlError(
              'not_in_conference',
              `disconnect: the participant is not in the conference (participant "${p.participant}", conference "${p.id}"); nobody was disconnected`,
            );
          }
          await send('disconnect', plan.act, 'user', `user "${plan.user}"`, a.signal);
          afterChange();
          return { conference: p.id, participant: p.participant, user_id: plan.user, scope: plan.scope };
        }),
    }),
    recordings: defineAction({
      description:
        'The recordings of a conference, as the server lists them (v3 GET /conferences/{id}/records, v4 GET /conferences/{id}/recordings; the first page the server returns).',
      params: Type.Object({ id: Id }, { additionalProperties: false }),
      readOnly: true,
      run: (p, a) =>
        guarded(async () => {
          const body = await send('recordings', recordingsRequest(api, p.id), 'conference', `conference "${p.id}"`, a.signal);
          return { conference: p.id, recordings: parseRecordings(body) };
        }),
    }),
    recording: defineAction({
      description:
        'Switch recording of a running conference on or off (v4 POST /conferences/{id}/recordings/start|stop; not on v3).',
      params: Type.Object({ id: Id, on: Type.Boolean() }, { additionalProperties: false }),
      run: (p, a) =>
        guarded(async () => {
          const req = recordingRequest(api, p.id, p.on);
          await requireRunning('recording', p.id, a.signal);
          await send('recording', req, 'conference', `conference "${p.id}"`, a.signal);
          return { conference: p.id, recording: p.on };
        }),
    }),
  };
}
