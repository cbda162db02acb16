// SCIM errors (RFC 7644 §3.12): every refusal is one of these, answered as a SCIM error body
// `{schemas: [Error], status: "400", scimType, detail}`. `detail` names the field at fault.
//
// Checklist (§3.12):
//  - `status` is the HTTP status as a string; `schemas` is the Error URN            tested
//  - 400 with scimType invalidFilter / invalidSyntax / invalidPath / invalidValue /
//    noTarget / mutability / tooMany; 409 uniqueness; 404; 412 (version); 413      tested
//  - 401 carries WWW-Authenticate (§2: the scheme)                                  tested
import { ERRORS, errorCode, type ErrorCode, type ErrorStatus } from '../../errors.js';

export const SCIM_ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'invalidValue'
  | 'noTarget'
  | 'mutability'
  | 'tooMany'
  | 'uniqueness'
  | 'invalidVers';

const STATUS_OF: Record<ScimType, ErrorStatus> = {
  invalidFilter: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  invalidValue: 400,
  noTarget: 400,
  mutability: 400,
  tooMany: 400,
  uniqueness: 409,
  invalidVers: 412,
};

/** A SCIM refusal: its status a row of the error table (by code, or a status for its default code). */
export class ScimError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(
    codeOrStatus: ErrorCode | ErrorStatus,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.code = errorCode(codeOrStatus);
    this.status = ERRORS[this.code].status;
  }

  static of(scimType: ScimType, detail: string): ScimError {
    return new ScimError(STATUS_OF[scimType], detail, scimType);
  }

  body(): Record<string, unknown> {
    return { schemas: [SCIM_ERROR_URN], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.detail };
  }
}

/** 400 invalidValue naming the attribute. */
export const invalidValue = (attr: string, why: string): ScimError => ScimError.of('invalidValue', `${attr}: ${why}`);

export const notFound = (what: string, id: string): ScimError => new ScimError(404, `${what} ${JSON.stringify(id)} not found`);
