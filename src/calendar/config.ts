import { type Static, Type } from '@sinclair/typebox';

/** `[calendar]` in api.toml. Sources themselves are devices (`driver = "tcs"` / `"ics"`). */
export const CalendarSectionSchema = Type.Object(
  {
    sources: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Calendar device ids, in priority order (the first source names a merged meeting). Default: every calendar device in config order.',
      }),
    ),
    upcoming_minutes: Type.Integer({
      default: 10,
      minimum: 0,
      maximum: 1440,
      description: 'meeting.upcoming fires this many minutes before a start (0: never).',
    }),
    time_zone: Type.Optional(
      Type.String({ description: "IANA zone for 'today' (default: [agent] timezone, else the machine's)." }),
    ),
    stale_after_s: Type.Integer({
      default: 900,
      minimum: 30,
      description: 'A source whose last successful sync is older than this is marked stale.',
    }),
    keep_days: Type.Integer({ default: 30, minimum: 1, maximum: 3650, description: 'Days of past meetings kept in SQLite.' }),
  },
  { additionalProperties: false },
);
export type CalendarSection = Static<typeof CalendarSectionSchema>;
