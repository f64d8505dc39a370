/** `s` (Unix seconds) as an iCalendar UTC date-time: 20260101T093000Z. */
export const icsTime = (s: number) =>
  new Date(s * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
