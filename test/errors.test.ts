// The closed error table (src/errors.ts): every status a surface may answer with maps to one code
// of the table that answers with that status, so admin, sign-in and SCIM errors stay in the table.
import t from 'tap';
import { ERRORS, errorCode, type ErrorCode, type ErrorStatus } from '../src/errors.js';

t.test('each status in the table has a default code with that status', async (t) => {
  const statuses = new Set(Object.values(ERRORS).map((e) => e.status));
  for (const status of statuses) {
    const code = errorCode(status as ErrorStatus);
    t.ok(code in ERRORS, `${status} → ${code}`);
    t.equal(ERRORS[code].status, status, `${code} answers ${status}`);
  }
});

t.test('a code is its own row; every row has a title and a message', async (t) => {
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    t.equal(errorCode(code), code);
    t.match(ERRORS[code], { title: /\S/, detail: /\S/ }, code);
  }
});
