// What trusted proxies say about the original request: the client address, scheme and host, from
// either RFC 7239's Forwarded or the de-facto X-Forwarded-For/-Proto/-Host. Pure; malformed
// input is ignored (the connection's own values stand), never thrown.
//
// Which family is read is a setting, not a guess: a proxy that writes X-Forwarded-For usually
// passes a client's own Forwarded field through untouched (and the other way round), so reading
// the one the proxy does not write would believe the client.
//
// The chain is walked right to left (the right-most hop was added by the proxy nearest to us):
// trusted hops are skipped and the first untrusted one is the client (nginx's real_ip_recursive,
// proxy-addr's semantics). If every hop is trusted, the left-most is the client. A hop that is
// not an address (Forwarded's "unknown" or an obfuscated "_name", or garbage) ends the walk: the
// client is the last address we could believe, the proxy that reported it.
import net from 'node:net';
import type { Headers } from '../http/types.js';
import type { ForwardedView } from '../http/request.js';
import type { TrustPredicate } from './trust.js';
import { trimOws } from '../http/grammar.js';

export type ForwardedHeader = 'x-forwarded' | 'forwarded';

/** One element of a Forwarded field (one proxy's account); absent or unusable parameters are undefined. */
export interface ForwardedElement {
  /** The address, when `for` is an IP address (brackets and port removed); null when it is "unknown", obfuscated or invalid. */
  for: string | null | undefined;
  proto: string | undefined;
  host: string | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses Forwarded field values (one per field line) into elements, left to right.
 * Returns null if any of it is malformed: with the list's order in doubt, none of it is believed.
 */
export function parseForwarded(values: readonly string[]): ForwardedElement[] | null {
  const out: ForwardedElement[] = [];
  for (const value of values) {
    let i = 0;
    const n = value.length;
    const ws = () => { while (i < n && (value[i] === ' ' || value[i] === '\t')) i++; };
    for (;;) {
      // Empty list elements ("a, , b") are allowed by HTTP's list rule (RFC 9110 §5.6.1).
      while (i < n && (value[i] === ',' || value[i] === ' ' || value[i] === '\t')) i++;
      if (i >= n) break;
      const el: ForwardedElement = { for: undefined, proto: undefined, host: undefined };
      for (;;) { // pairs of one element
        ws();
        const eq = value.indexOf('=', i);
        if (eq === -1) return null;
        const key = value.slice(i, eq).toLowerCase();
        if (!TOKEN.test(key)) return null;
        i = eq + 1;
        let v: string;
        if (value[i] === '"') {
          let s = '';
          i++;
          for (;;) {
            if (i >= n) return null;
            const c = value[i++];
            if (c === '"') break;
            if (c === '\\') { if (i >= n) return null; s += value[i++]; } else s += c;
          }
          v = s;
        } else {
          const start = i;
          while (i < n && value[i] !== ';' && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') i++;
          v = value.slice(start, i);
          if (!TOKEN.test(v)) return null;
        }
        if (key === 'for') el.for = nodeAddress(v);
        else if (key === 'proto') el.proto = v;
        else if (key === 'host') el.host = v;
        ws();
        if (i < n && value[i] === ';') { i++; continue; }
        break;
      }
      out.push(el);
      ws();
      if (i >= n) break;
      if (value[i] !== ',') return null;
      i++;
    }
  }
  return out;
}

/** An address out of a Forwarded `for` node or an X-Forwarded-For entry: "1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1". */
export function nodeAddress(node: string): string | null {
  let s = trimOws(node);
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return null;
    const rest = s.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    s = s.slice(1, close);
    return net.isIPv6(s) ? s : null;
  }
  if (net.isIP(s) !== 0) return s;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s); // IPv4 with a port (some balancers add one)
  return m && net.isIPv4(m[1]!) ? m[1]! : null;
}

/** The comma-separated entries of every line of a field, trimmed, left to right (empty ones dropped, as HTTP's list rule allows). */
function listOf(headers: Headers, name: string): string[] {
  const lines = headers.getAll(name);
  if (lines.length === 0) return [];
  const out: string[] = [];
  for (const line of lines) {
    for (const part of line.split(',')) {
      const entry = trimOws(part);
      if (entry !== '') out.push(entry);
    }
  }
  return out;
}

/**
 * Walks hop addresses right to left: the index of the element that names the client, or -1 when
 * the right-most hop is already unusable (then nothing is believed).
 */
function clientIndex(hops: ReadonlyArray<string | null | undefined>, trusted: TrustPredicate): number {
  for (let i = hops.length - 1; i >= 0; i--) {
    const a = hops[i];
    if (a === null || a === undefined) return i === hops.length - 1 ? -1 : i + 1;
    if (!trusted(a) || i === 0) return i;
  }
  return -1;
}

function scheme(v: string | undefined): 'http' | 'https' | undefined {
  if (v === undefined) return undefined;
  const s = v.toLowerCase();
  return s === 'http' || s === 'https' ? s : undefined;
}

/** A Host value a proxy could have received: an authority without userinfo, spaces or path. */
function authority(v: string | undefined): string | undefined {
  if (v === undefined || v === '' || v.length > 255) return undefined;
  return /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_~!$&'()*+;=%]+)(?::\d{1,5})?$/.test(v) ? v : undefined;
}

/**
 * Builds the view a trusted peer's request gives: call it only for requests whose connection
 * comes from a trusted proxy (the caller checks the peer).
 */
export function forwardedView(headers: Headers, trusted: TrustPredicate, header: ForwardedHeader): ForwardedView {
  return header === 'forwarded' ? fromForwarded(headers, trusted) : fromXForwarded(headers, trusted);
}

function fromForwarded(headers: Headers, trusted: TrustPredicate): ForwardedView {
  const lines = headers.getAll('forwarded');
  if (lines.length === 0) return {};
  const els = parseForwarded(lines);
  if (els === null || els.length === 0) return {};
  const i = clientIndex(els.map((e) => e.for), trusted);
  if (i === -1) return {};
  const el = els[i]!;
  const view: ForwardedView = {};
  if (el.for) view.remoteAddress = el.for;
  const proto = scheme(el.proto);
  if (proto) view.scheme = proto;
  const host = authority(el.host);
  if (host) view.host = host;
  return view;
}

function fromXForwarded(headers: Headers, trusted: TrustPredicate): ForwardedView {
  const view: ForwardedView = {};
  const hops = listOf(headers, 'x-forwarded-for').map(nodeAddress);
  const i = hops.length === 0 ? -1 : clientIndex(hops, trusted);
  if (i !== -1) view.remoteAddress = hops[i]!;
  // X-Forwarded-Proto/-Host: when every proxy appended to them as to X-Forwarded-For, the entry
  // that lines up with the client hop; otherwise the right-most, written by the nearest proxy.
  const pick = (list: string[]) => (list.length === 0 ? undefined : list.length === hops.length && i !== -1 ? list[i] : list[list.length - 1]);
  const proto = scheme(pick(listOf(headers, 'x-forwarded-proto')));
  if (proto) view.scheme = proto;
  const host = authority(pick(listOf(headers, 'x-forwarded-host')));
  if (host) view.host = host;
  return view;
}
