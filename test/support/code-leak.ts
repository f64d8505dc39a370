/**
 * A pattern for one verification code standing as a number of its own in a text: not preceded or followed by
 * another digit. Texts the tests search for leaks (audit rows, logs, API answers) also hold epoch-ms times,
 * durations and ids, and a 6-digit code occurs by chance inside a 13-digit time (965476 in 1796547600001);
 * a plain substring search made the identity tests fail about once in a few hundred runs. A leaked code is
 * still found in every form the agent could write it: "965476", code=965476, "code":965476.
 */
export function codeAlone(code: string): RegExp {
  if (!/^[0-9]+$/.test(code)) throw new Error(`codeAlone: "${code}" is not a numeric code`);
  return new RegExp(`(?<![0-9])${code}(?![0-9])`);
}
