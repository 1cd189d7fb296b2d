// A loopback OpenID Connect provider for the SSO end-to-end tests (panva oidc-provider 9).
// Test-only: in-memory storage, development keys and the built-in login/consent pages.
// Configuration comes from the environment so the test can pick a free port and its live server:
//   OP_PORT (3000), OP_ISSUER (http://127.0.0.1:<port>), RP_BASE (http://localhost:8000),
//   CLIENT_ID (sop-console), CLIENT_SECRET (sop-secret).
import Provider from 'oidc-provider';

const PORT = Number(process.env.OP_PORT || 3000);
const ISSUER = process.env.OP_ISSUER || `http://127.0.0.1:${PORT}`;
const RP = process.env.RP_BASE || 'http://localhost:8000';
const CLIENT_ID = process.env.CLIENT_ID || 'sop-console';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'sop-secret';

// Any password is accepted by the development login page; the login name picks the account.
const USERS = {
  planner1: { email: 'planner1@example.test', email_verified: true, name: 'Pat Planner', groups: ['planners'] },
  admin1: { email: 'admin1@example.test', email_verified: true, name: 'Ada Admin', groups: ['sop-admins'] },
  outsider1: { email: 'outsider1@example.test', email_verified: true, name: 'Oli Outsider', groups: ['contractors'] },
  // Claims the address of a local account without the provider vouching for it (ACC-28: no takeover).
  unverified1: { email: 'lena.local@example.test', email_verified: false, name: 'Not Lena', groups: ['sop-admins'] },
};

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${RP}/oidc/callback/`],
      post_logout_redirect_uris: [`${RP}/accounts/login/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['loopback-test-cookie-key'] },
  async findAccount(ctx, id) {
    const user = USERS[id];
    return user && { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
});

const server = provider.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${ISSUER}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
