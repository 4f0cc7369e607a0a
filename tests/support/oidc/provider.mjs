// A real OpenID provider (panva's certified oidc-provider) for Runda's sign-in tests, on loopback.
//
//   node provider.mjs CONFIG.json
//
// CONFIG holds: port, issuer (default http://127.0.0.1:<port>), keys (a private JWKS: the first
// key signs), users ({login: {hsa_id, name, email, commission}}), clients (oidc-provider client
// metadata), clock_offset_seconds (the provider's clock runs this much ahead, or behind when
// negative: for clock-skew and expiry tests) and id_token_ttl_seconds. It prints "ready <issuer>" once it
// listens. The login form is the library's own development form (any password; the login
// names a user in CONFIG.users).
import { readFileSync } from 'node:fs';
import http from 'node:http';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// The provider's clock is off by clock_offset_seconds when it issues tokens (iat, exp and
// auth_time read Date.now); its login pages and cookies keep the true time, so they still work.
let offsetNow = false;
if (config.clock_offset_seconds) {
  const realNow = Date.now;
  Date.now = () => realNow() + (offsetNow ? config.clock_offset_seconds * 1000 : 0);
}

const { default: Provider } = await import('oidc-provider');

const port = config.port;
const issuer = config.issuer || `http://127.0.0.1:${port}`;
const users = config.users || {};

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.keys,
  cookies: { keys: ['runda-test-provider-cookie-key'] },
  scopes: ['openid', 'profile', 'email', 'hsa'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email'],
    hsa: ['hsa_id', 'commission'],
  },
  // Claims go into the ID token itself, as Inera's and Entra's do with a suitable client set-up.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  ttl: {
    IdToken: config.id_token_ttl_seconds || 3600,
    AccessToken: 600,
    AuthorizationCode: 60,
    Session: 3600,
    Interaction: 600,
    Grant: 3600,
  },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...user };
      },
    };
  },
});
provider.use(async (ctx, next) => {
  offsetNow = ctx.path === '/token';
  try {
    await next();
  } finally {
    offsetNow = false;
  }
});
// Warnings about a plain-http issuer and development interactions are expected here.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
