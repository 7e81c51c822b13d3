// An HTTP-level error: a status and a short reason that is sent as the plain-text body.
// The parser throws it for malformed input; handlers may throw it to answer a 4xx/5xx.

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** True when a handler's result is not a response object (null, a string, a number...). */
export function isNotAResponse(res: unknown): boolean {
  return res === null || typeof res !== 'object';
}

/** The error reported for such a result (the client gets a 500). */
export function notAResponseError(res: unknown): TypeError {
  return new TypeError(`handler returned ${res === null ? 'null' : typeof res}, not a response object`);
}
