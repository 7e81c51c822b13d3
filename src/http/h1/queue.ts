// The exchanges of one connection whose responses are not yet (fully) written, in request order:
// a FIFO linked through the requests themselves. An array would keep its grown backing store for
// the life of the connection, idle or not; this holds two references and a count.
import type { IncomingRequest } from '../request.js';

export class ExchangeQueue {
  first: IncomingRequest | null = null;
  private last: IncomingRequest | null = null;
  length = 0;

  push(req: IncomingRequest): void {
    req._next = null;
    if (this.last === null) this.first = req;
    else this.last._next = req;
    this.last = req;
    this.length++;
  }

  /** Takes the first exchange off the queue. */
  shift(): IncomingRequest | null {
    const req = this.first;
    if (req === null) return null;
    this.first = req._next;
    req._next = null;
    if (this.first === null) this.last = null;
    this.length--;
    return req;
  }

  /** Empties the queue and returns what it held, in order. */
  takeAll(): IncomingRequest[] {
    const all: IncomingRequest[] = [];
    for (let req = this.shift(); req !== null; req = this.shift()) all.push(req);
    return all;
  }
}
