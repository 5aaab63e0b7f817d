// The official TypeScript SDK's MCP client (@modelcontextprotocol/sdk, pinned and installed by
// ./quickstart into third_party/node) as a third-party client under test for mcpcert's client
// role. It follows the same contract as targets/refclient (docs/client-role.md):
//
//   MCPC_CONTEXT='{"transport":"http"|"stdio", "url":..., "server":{...}, "actions":[...]}' \
//     node tests/interop/sdk-client.mjs [URL]
//
// - http: StreamableHTTPClientTransport on the URL (first argument, else the context's url,
//   else $MCPC_URL); stdio: StdioClientTransport launching server.command with server.args.
// - The SDK negotiates by itself (initialize: it knows 2025-11-25 and older, not 2026-07-28).
// - Actions: list_tools follows nextCursor; call_tool calls a tool of the listing (one is made
//   first when there is none) and prints one stdout line, the concatenated text of the
//   result's text blocks (CR and LF become spaces).
// - Exit 0 when every action succeeded; else 1 with the error on stderr. A global timer ends
//   the run with status 1 after 20 s, whatever the SDK is waiting for.
// - OAuth (the context's "oauth" and "browser", docs/client-role.md): the SDK's own flow, driven
//   through an OAuthClientProvider the way a host application drives it: the pre-registered
//   client from the context, tokens and the PKCE verifier kept in memory, and
//   redirectToAuthorization handing the URL to the context's browser command (an argument
//   vector, no shell), reading the redirect it prints, checking our state (which the SDK leaves
//   to the application) and keeping the code. The failed connect is then finished with
//   transport.finishAuth(code) and made again on a new transport. Beyond the state check, which
//   the SDK's provider contract leaves to the application, the driver adds no check of its own:
//   what the cases judge is the SDK's behaviour.
// - Every fetch the SDK makes goes through a wrapper that refuses anything but loopback http(s),
//   so no run can reach another host whatever a case's metadata says.
// Written for mcpcert; $MCPC_NODE_DIR overrides where the SDK is looked for.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DEADLINE_MS = 20000;
const BROWSER_MS = 10000;

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.MCPC_NODE_DIR || join(here, '..', '..', 'third_party', 'node');
const sdk = join(nodeDir, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm');

function die(msg) {
  process.stderr.write(`sdk-client: ${String(msg).replace(/[\r\n]+/g, ' ')}\n`);
  process.exit(1);
}

// The stdio server we launched, so that the deadline can take it down with us.
let serverPid = null;

// Whatever the SDK is stuck on, the run ends; unref'd so that a finished run is not held.
setTimeout(() => {
  if (serverPid) {
    try {
      process.kill(serverPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  die(`still running after ${DEADLINE_MS} ms`);
}, DEADLINE_MS).unref();

function readContext() {
  const text = process.env.MCPC_CONTEXT;
  if (!text) die('MCPC_CONTEXT is not set');
  let ctx;
  try {
    ctx = JSON.parse(text);
  } catch (e) {
    die(`MCPC_CONTEXT is not JSON: ${e.message}`);
  }
  if (!ctx || typeof ctx !== 'object' || Array.isArray(ctx)) die('MCPC_CONTEXT is not a JSON object');
  if (ctx.actions !== undefined && !Array.isArray(ctx.actions)) die('MCPC_CONTEXT: actions is not an array');
  return ctx;
}

// 1 when u is an http(s) URL on a loopback host.
function isLoopback(u) {
  try {
    const url = new URL(String(u));
    return (url.protocol === 'http:' || url.protocol === 'https:') &&
      ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

// fetch for the SDK: loopback only (a plain Error, not the TypeError the SDK takes for CORS).
function loopbackFetch(input, init) {
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input?.url;
  if (!isLoopback(href)) return Promise.reject(new Error(`refusing to fetch ${href}: loopback only`));
  return fetch(input, init);
}

// Hand url to the context's browser command (url its last argument) and return the first line
// it prints: the Location of the authorization server's redirect.
function openBrowser(browser, url) {
  return new Promise((resolve, reject) => {
    if (!browser || typeof browser.command !== 'string' || !Array.isArray(browser.args ?? []))
      return reject(new Error('MCPC_CONTEXT names no usable browser'));
    execFile(browser.command, [...(browser.args ?? []), url], { timeout: BROWSER_MS, maxBuffer: 8192, shell: false },
      (err, stdout) => {
        if (err) return reject(new Error(`the browser did not complete the authorization (${err.code ?? err.signal ?? err.message})`));
        const line = String(stdout).split(/\r?\n/)[0];
        if (!line) return reject(new Error('the browser printed no redirect'));
        resolve(line);
      });
  });
}

// The host application's side of the SDK's OAuth flow (OAuthClientProvider).
class Provider {
  constructor(ctx) {
    this.oauth = ctx.oauth;
    this.browser = ctx.browser;
    this.pendingCode = null;
    this._state = randomBytes(16).toString('base64url');
    this._tokens = undefined;
    this._verifier = undefined;
  }
  get redirectUrl() { return this.oauth.redirect_uri; }
  get clientMetadata() {
    return { redirect_uris: [this.oauth.redirect_uri], client_name: 'sdk-driver', grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state() { return this._state; }
  clientInformation() { return { client_id: this.oauth.client_id }; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() {
    if (!this._verifier) throw new Error('no PKCE code verifier saved');
    return this._verifier;
  }
  async redirectToAuthorization(authorizationUrl) {
    const location = await openBrowser(this.browser, authorizationUrl.href);
    const back = new URL(location);
    const want = new URL(this.oauth.redirect_uri);
    if (back.origin !== want.origin || back.pathname !== want.pathname)
      throw new Error(`the authorization response goes to ${back.origin}${back.pathname}, not to our redirect URI`);
    if (back.searchParams.get('state') !== this._state) throw new Error('the authorization response does not carry our state');
    const error = back.searchParams.get('error');
    if (error) throw new Error(`the authorization server refused: ${error}`);
    const code = back.searchParams.get('code');
    if (!code) throw new Error('the authorization response has no code');
    this.pendingCode = code;
  }
}

async function makeTransport(ctx, provider) {
  const transport = ctx.transport ?? (ctx.server ? 'stdio' : 'http');
  if (transport === 'http') {
    const url = process.argv[2] || ctx.url || process.env.MCPC_URL;
    if (!url) die('MCPC_CONTEXT: transport http without a url');
    const { StreamableHTTPClientTransport } = await import(pathToFileURL(join(sdk, 'client', 'streamableHttp.js')).href);
    return new StreamableHTTPClientTransport(new URL(url), provider ? { authProvider: provider, fetch: loopbackFetch } : { fetch: loopbackFetch });
  }
  if (transport === 'stdio') {
    const server = ctx.server ?? {};
    const args = server.args ?? [];
    if (typeof server.command !== 'string' || !server.command || !Array.isArray(args) ||
        args.some((a) => typeof a !== 'string'))
      die('MCPC_CONTEXT: transport stdio needs server.command (a string) and server.args (strings)');
    const { StdioClientTransport } = await import(pathToFileURL(join(sdk, 'client', 'stdio.js')).href);
    // The whole environment, as refclient passes it, rather than the SDK's short default list.
    return new StdioClientTransport({ command: server.command, args, env: { ...process.env } });
  }
  die('MCPC_CONTEXT: transport is neither http nor stdio');
}

async function listTools(client) {
  const tools = [];
  let cursor;
  for (let page = 0; ; page++) {
    if (page === 1000) throw new Error('tools/list: still a nextCursor after 1000 pages');
    const res = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...res.tools);
    if (res.nextCursor === undefined) return tools;
    cursor = res.nextCursor;
  }
}

function resultText(res) {
  return (res.content ?? [])
    .filter((b) => b && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('');
}

async function main() {
  const ctx = readContext();
  const { Client } = await import(pathToFileURL(join(sdk, 'client', 'index.js')).href);
  const { UnauthorizedError } = await import(pathToFileURL(join(sdk, 'client', 'auth.js')).href);
  const provider = ctx.oauth && (ctx.transport ?? 'http') === 'http' ? new Provider(ctx) : null;
  let transport = await makeTransport(ctx, provider);
  let client = new Client({ name: 'sdk-driver', version: '1' });
  let failed = 0;
  let tools = null;

  try {
    const started = client.connect(transport);
    serverPid = transport.pid ?? null;      // stdio only; set once the child is spawned
    await started;
  } catch (e) {
    // the SDK's flow: the first connect ends in UnauthorizedError once the browser has been sent
    // to the authorization server; the code is then exchanged and the connection made again
    if (!provider || !(e instanceof UnauthorizedError) || !provider.pendingCode) die(`connect: ${e.message}`);
    try {
      await transport.finishAuth(provider.pendingCode);
    } catch (e2) {
      die(`finishAuth: ${e2.message}`);
    }
    await transport.close().catch(() => {});
    transport = await makeTransport(ctx, provider);
    client = new Client({ name: 'sdk-driver', version: '1' });
    try {
      await client.connect(transport);
    } catch (e3) {
      die(`connect after authorization: ${e3.message}`);
    }
  }
  for (const act of ctx.actions ?? []) {
    try {
      if (act?.do === 'list_tools') {
        tools = await listTools(client);
      } else if (act?.do === 'call_tool') {
        if (typeof act.name !== 'string') throw new Error('a call_tool action without a name');
        if (tools === null) tools = await listTools(client);
        if (!tools.some((t) => t.name === act.name))
          throw new Error(`tools/call ${act.name}: no such tool in the listing: not called`);
        const params = act.arguments === undefined ? { name: act.name } : { name: act.name, arguments: act.arguments };
        const res = await client.callTool(params);
        process.stdout.write(resultText(res).replace(/[\r\n]/g, ' ') + '\n');
        if (res.isError) process.stderr.write(`sdk-client: tool ${act.name} reported an error (isError)\n`);
      } else {
        throw new Error('an action whose "do" is not list_tools or call_tool');
      }
    } catch (e) {
      failed++;
      process.stderr.write(`sdk-client: ${String(e.message).replace(/[\r\n]+/g, ' ')}\n`);
    }
  }
  try {
    await client.close();
  } catch (e) {
    die(`close: ${e.message}`);
  }
  if (failed) die(`${failed} of ${(ctx.actions ?? []).length} actions failed`);
  process.exit(0);
}

main().catch((e) => die(e?.stack ?? e));
