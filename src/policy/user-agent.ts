// What the User-Agent header claims about the client (OS and browser family and version), as
// posture facts with source user_agent. Client-claimed: anyone can send any User-Agent, so these
// facts describe, they do not prove. Parsed with bowser (maintained, MIT, no native code; ua-parser-js
// 2.x is AGPL). User-Agent strings repeat heavily, so parses are cached by the exact string.
import Bowser from 'bowser';

export type AgentFacts = Readonly<Record<string, string>>;

const CACHE_LIMIT = 1000;
const MAX_UA = 512;
const cache = new Map<string, AgentFacts>();
const EMPTY: AgentFacts = Object.freeze({});

export function agentFacts(header: string | undefined): AgentFacts {
  if (!header) return EMPTY;
  const ua = header.length > MAX_UA ? header.slice(0, MAX_UA) : header;
  let facts = cache.get(ua);
  if (facts) return facts;
  facts = parse(ua);
  // A bounded cache: when full, the oldest entry goes (Map keeps insertion order).
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(ua, facts);
  return facts;
}

function parse(ua: string): AgentFacts {
  let r: Bowser.Parser.ParsedResult;
  try {
    r = Bowser.parse(ua);
  } catch {
    return EMPTY;
  }
  const out: Record<string, string> = {};
  if (r.os.name) out.ua_os = r.os.name;
  if (r.os.version) out.ua_os_version = r.os.version;
  if (r.browser.name) out.ua_browser = r.browser.name;
  if (r.browser.version) out.ua_browser_version = r.browser.version;
  return Object.freeze(out);
}
