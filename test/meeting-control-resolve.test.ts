// The pure parts of in-meeting control: an e-mail or person to a TrueConf user
// through the invitee lists, and what a TrueConf refusal means.
import { describe, expect, it } from 'vitest';
import { classifyRefusal, participantListed, userOfParticipant } from '../drivers/tcs/control.js';
import { resolveInvitee } from '../src/calendar/control.js';

const tcs = [
  { id: 'petrova@tcs.example', name: 'Anna Petrova' },
  { id: 'ivanov1@tcs.example', name: 'Ivan Ivanov' },
  { id: 'ivanov2@tcs.example', name: 'Ivan  Ivanov' },
  { id: 'mail.user@corp.example', name: 'Mail User' },
];
const all = [
  ...tcs,
  { id: 'anna.petrova@corp.example', name: 'Anna Petrova' },
  { id: 'ivan@corp.example', name: 'Ivan Ivanov' },
  { id: 'oleg@corp.example', name: 'Oleg' },
];

describe('resolveInvitee', () => {
  it('takes a TrueConf invitee whose id is the e-mail, then one whose name matches the e-mail’s invitee', () => {
    expect(resolveInvitee('email', 'MAIL.user@corp.example', all, tcs)).toBe('mail.user@corp.example');
    expect(resolveInvitee('email', 'anna.petrova@corp.example', all, tcs)).toBe('petrova@tcs.example');
  });
  it('never guesses between two TrueConf invitees of the same name, and finds nothing without a link', () => {
    expect(resolveInvitee('email', 'ivan@corp.example', all, tcs)).toBeNull();
    expect(resolveInvitee('email', 'oleg@corp.example', all, tcs)).toBeNull();
    expect(resolveInvitee('email', 'stranger@x.example', all, tcs)).toBeNull();
  });
  it('takes a person by id or by name', () => {
    expect(resolveInvitee('person', 'anna  PETROVA', all, tcs)).toBe('petrova@tcs.example');
    expect(resolveInvitee('person', 'anna.petrova@corp.example', all, tcs)).toBe('petrova@tcs.example');
    expect(resolveInvitee('person', 'Oleg', all, tcs)).toBeNull();
  });
});

describe('TrueConf refusals', () => {
  const v3 = (reason: string, location?: string) => ({ error: { code: 404, errors: [{ reason, location }] } });
  it('classifies by status, reason and location', () => {
    expect(classifyRefusal(404, v3('conferenceNotFound', 'conference_id'), 'user')).toBe('no_such_conference');
    expect(classifyRefusal(404, v3('userNotFound', 'participant_id'), 'user')).toBe('no_such_user');
    expect(classifyRefusal(404, v3('userNotFound', 'user_id'), 'user')).toBe('no_such_user');
    expect(classifyRefusal(400, v3('conferenceNotRunning', 'conference_id'), 'user')).toBe('not_running');
    expect(classifyRefusal(403, v3('forbidden'), 'user')).toBe('no_permission');
    expect(classifyRefusal(403, v3('accessTokenInvalid'), 'user')).toBe('token_invalid');
    expect(classifyRefusal(401, { error: 'invalid_token', message: 'expired' }, 'conference')).toBe('token_invalid');
    expect(classifyRefusal(404, { error: { code: 404, errors: [] } }, 'conference')).toBe('no_such_conference');
    expect(classifyRefusal(400, v3('required'), 'user')).toBe('bad_request');
  });
  it('matches a participant by TrueConf user, whatever the instance', () => {
    expect(userOfParticipant('petrova@tcs.example/3F2A')).toBe('petrova');
    const body = { count: 1, participants: [{ participant_id: 'Petrova@tcs.example' }] };
    expect(participantListed(body, 'petrova@tcs.example/3F2A')).toBe(true);
    expect(participantListed(body, 'ivanov@tcs.example')).toBe(false);
  });
});
