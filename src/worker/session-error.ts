/** A request the user cannot make right now (no model yet, run already going...), said as a sentence. */
export class SessionError extends Error {
  override name = 'SessionError';
}
