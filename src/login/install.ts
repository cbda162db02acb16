// Wires the login endpoints (/.gatehouse/login, callback, logout, identity) into a gateway.
import type { Gateway } from '../gateway.js';

export async function installLogin(_g: Gateway): Promise<void> {
  // Login providers arrive with the login module (issue #4); until then unauthenticated browser
  // requests get the 401 page instead of a redirect.
}
