// Who a participant is: the room's roster looked up by person or by the
// contact a call came from.
import type { RosterEntry } from './types.js';

/** Roster lookups: by person, and by contact (phone, desk number, e-mail, account). */
export class Roster {
  private readonly byPerson = new Map<string, RosterEntry>();
  private readonly byContact = new Map<string, RosterEntry>();
  constructor(entries: readonly RosterEntry[] = []) {
    for (const e of entries) {
      this.byPerson.set(e.person, e);
      for (const c of e.contacts ?? []) this.byContact.set(normContact(c), e);
    }
  }
  /** The roster entry of a participant: by person when user_data names one, else by the uri it joined from. */
  entry(person: string | null, partUri: string | null): RosterEntry | undefined {
    return person !== null ? this.byPerson.get(person) : partUri !== null ? this.byContact.get(normContact(partUri)) : undefined;
  }
}

/** Contacts compare without a sip:/tel:/mailto: scheme, case-insensitively; phone numbers by digits (and a leading +). */
export function normContact(s: string): string {
  const t = s
    .trim()
    .toLowerCase()
    .replace(/^(tel|sip|sips|mailto):/, '');
  const phone = t.replace(/[\s().-]/g, '');
  return /^\+?\d{3,}$/.test(phone) ? phone : t;
}
