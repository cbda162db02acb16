// The vocabulary of policy evaluation. This module (like all of src/policy) imports nothing
// from the rest of the gateway: identity and request facts come in, a decision goes out.

/** The verified identity of the caller, as policies see it and as the session audit records it. */
export interface Identity {
  /** session: minted by this gateway at login; token: a JWT from an external issuer; service: a service token. */
  kind: 'session' | 'token' | 'service';
  /** Stable session id: the token's `jti`, or SHA-256 (hex) of the token when it has none. Never the token. */
  sessionId: string;
  /** `sub` claim, or the service token's name. */
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
  /** Identity provider id (gateway sessions) or the issuer URL (external tokens). */
  idp?: string;
  /** Authentication methods (`amr` claim), e.g. ["pwd", "mfa"]. */
  amr: string[];
  /** `iss` of the token: "gatehouse" for gateway sessions, the issuer URL, or "service_token". */
  issuer: string;
  /** Name of the service token, for kind = service. */
  serviceToken?: string;
  /** The full verified claims (for `claim:` rules and the audit). */
  claims: Record<string, unknown>;
  /** Epoch seconds. */
  issuedAt: number;
  expiresAt: number;
  /** The device this session proved with a WebAuthn assertion (src/devices), with its posture. */
  device?: DeviceFacts;
}

/** The type of a posture fact: versions compare part by part (14.10 > 14.9). */
export type PostureFactType = 'string' | 'boolean' | 'number' | 'version';

/** A posture fact's value: booleans, strings, numbers; versions are strings ("14.2.1"). */
export type PostureValue = string | number | boolean;

/** One reported fact and when it was reported (epoch ms): older than posture.max_age is unknown. */
export interface PostureFact {
  value: PostureValue;
  at: number;
  /** Who said so: a posture report (PUT …/posture; the default) or a shared signal (SSF device-compliance-change). */
  source?: 'report' | 'ssf';
}

/** The device bound to a session: what `device:` and `posture:` rules see, and what the audit shows. */
export interface DeviceFacts {
  id: string;
  name: string;
  /** platform (built in: Touch ID, Windows Hello) or cross-platform (a security key); null: not said. */
  attachment: 'platform' | 'cross-platform' | null;
  aaguid: string;
  /** The authenticator model, when its AAGUID is one Gatehouse knows. */
  aaguidName?: string;
  enrolledAt: number;
  /** null: pending an admin's approval (devices.approval: admin). */
  approvedAt: number | null;
  /** When this session last proved the device (the binding). */
  lastAssertionAt: number | null;
  /** Facts reported by an MDM or agent (PUT /admin/devices/{id}/posture). */
  posture: Record<string, PostureFact>;
}

/** Facts about the request that selectors other than identity look at. */
export interface RequestFacts {
  /** Client address as resolved through trusted_proxies (IPv4 or IPv6 text). */
  clientIp: string;
  /** ISO country code from the trusted edge's header, when configured and present. */
  country?: string;
  /** TLS client certificate, verified against the listener's client CA. */
  certificate?: { verified: boolean; subject?: string; fingerprint?: string };
  /** What the User-Agent header claims (ua_os, ua_os_version, ua_browser, ua_browser_version): client-claimed. */
  agent?: Readonly<Record<string, string>>;
  /** posture.max_age: reported facts older than this count as unknown (default 24 h). */
  postureMaxAgeMs?: number;
}

export type Action = 'allow' | 'deny' | 'bypass' | 'service_auth';

/** One rule: an object with exactly one selector key (validated by the config loader). */
export interface RuleConfig {
  everyone?: true;
  email?: string | string[];
  email_domain?: string | string[];
  group?: string | string[];
  idp?: string | string[];
  auth_method?: string | string[];
  ip?: string | string[];
  country?: string | string[];
  claim?: { name: string; value: string | number | boolean | Array<string | number | boolean> };
  service_token?: string | string[];
  valid_certificate?: true;
  device?: 'enrolled' | 'approved';
  posture?: PostureRule;
}

/** `posture: {fact, equals | in | at_least | at_most, value}` — exactly one comparison. */
export interface PostureRule {
  fact: string;
  equals?: PostureValue;
  in?: PostureValue[];
  at_least?: string | number;
  at_most?: string | number;
}

export interface PolicyConfig {
  name: string;
  action: Action;
  include?: RuleConfig[];
  require?: RuleConfig[];
  exclude?: RuleConfig[];
  /** service_auth only: external token issuers (by `issuer` URL) accepted besides service tokens. */
  issuers?: string[];
}

export type Clause = 'include' | 'require' | 'exclude';

/** One rule's result, with a reason a person can read: `require[0] group staff: not in [sales]`. */
export interface RuleResult {
  clause: Clause;
  index: number;
  selector: string;
  matched: boolean;
  reason: string;
}

export interface PolicyExplanation {
  policy: string;
  action: Action;
  /** Did this policy as a whole match (include any ∧ require all ∧ exclude none)? */
  matched: boolean;
  /** Whether the policy was reached at all (evaluation stops at the deciding policy). */
  evaluated: boolean;
  rules: RuleResult[];
  /**
   * What decided the policy regardless of its rules, when something did: the service_auth caller
   * check (`caller: service token ci-bot`, `caller: session from gatehouse is …`) or an empty include.
   */
  note?: string;
}

/** Decision reason codes from policy evaluation (token failures are in auth's reason codes). */
export type PolicyReason =
  | 'policy_allow'
  | 'policy_deny'
  | 'policy_bypass'
  | 'service_auth'
  | 'no_policy_matched';

export interface Decision {
  outcome: 'allow' | 'deny' | 'bypass';
  /** Name of the deciding policy, null when nothing matched. */
  policy: string | null;
  action: Action | null;
  reason: PolicyReason;
  /** Flat readable reasons of the deciding policy (or of every policy when nothing matched). */
  reasons: string[];
  explanation: PolicyExplanation[];
}
