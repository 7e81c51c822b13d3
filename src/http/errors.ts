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
