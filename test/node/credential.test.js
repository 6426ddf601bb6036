'use strict';

/** The Terros API credential: its fields, how it authenticates, its test, and the base URL check. */

const path = require('node:path');

const { runWorkflow } = require('../harness/engine');
const { createImportDirectly, errorShape, input, terros, useSimulator } = require('./helpers');

const { TerrosApi } = require(
	path.resolve(__dirname, '../../dist/credentials/TerrosApi.credentials.js'),
);

const handle = useSimulator();

const HTTPS_ONLY =
	'Terros accepts only HTTPS, and the API key must never travel unencrypted. Plain http:// is allowed only for a simulator on this machine (localhost or 127.0.0.1).';

/** Evaluates a `={{ … }}` credential expression the way n8n would, for this simple case. */
function evaluate(template, $credentials) {
	const match = /^=\{\{([\s\S]*)\}\}$/.exec(template);
	expect(match).not.toBeNull();
	return new Function('$credentials', `return (${match[1]});`)($credentials);
}

/** Fills `{{$credentials.x}}` in a header template. */
function fill(template, credentials) {
	return template
		.replace(/^=/, '')
		.replace(/\{\{\s*\$credentials\.(\w+)\s*\}\}/g, (_, key) => credentials[key]);
}

function runGet(sim, baseUrl, importId, apiKey = 'sim-key-acme') {
	return runWorkflow({
		nodes: [input([{ importId }]), terros('Get', 'get')],
		credentials: { apiKey, baseUrl },
	});
}

beforeEach(() => {
	handle.sim.faults = [];
	handle.sim.requests = [];
});

describe('the credential class', () => {
	const credential = new TerrosApi();

	it('is named terrosApi', () => {
		expect(credential.name).toBe('terrosApi');
		expect(credential.displayName).toBe('Terros API');
	});

	it('has a required API key, shown as a password', () => {
		const apiKey = credential.properties.find((p) => p.name === 'apiKey');
		expect(apiKey).toEqual(
			expect.objectContaining({
				displayName: 'API Key',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				required: true,
			}),
		);
	});

	it('has a base URL defaulting to https://api.terros.com', () => {
		const baseUrl = credential.properties.find((p) => p.name === 'baseUrl');
		expect(baseUrl).toEqual(
			expect.objectContaining({
				displayName: 'Base URL',
				type: 'string',
				default: 'https://api.terros.com',
			}),
		);
		expect(baseUrl.typeOptions?.password).toBeUndefined();
		expect(credential.properties.map((p) => p.name)).toEqual(['apiKey', 'baseUrl']);
	});

	it('sends the key as "Authorization: ApiKey <key>" and nowhere else', () => {
		expect(credential.authenticate).toEqual({
			type: 'generic',
			properties: { headers: { Authorization: '=ApiKey {{$credentials.apiKey}}' } },
		});
		expect(
			fill(credential.authenticate.properties.headers.Authorization, { apiKey: 'k-123' }),
		).toBe('ApiKey k-123');
	});

	it('is tested with POST /user/get on the base URL without its trailing slashes', () => {
		const { request, rules } = credential.test;
		expect(request).toEqual(
			expect.objectContaining({ url: '/user/get', method: 'POST', body: {}, json: true }),
		);
		expect(evaluate(request.baseURL, { baseUrl: 'https://api.terros.com' })).toBe(
			'https://api.terros.com',
		);
		expect(evaluate(request.baseURL, { baseUrl: 'https://api.terros.com//' })).toBe(
			'https://api.terros.com',
		);
		expect(evaluate(request.baseURL, { baseUrl: '  https://api.terros.com/ ' })).toBe(
			'https://api.terros.com',
		);
		expect(evaluate(request.baseURL, { baseUrl: 'http://127.0.0.1:4010/' })).toBe(
			'http://127.0.0.1:4010',
		);
		expect(evaluate(request.baseURL, { baseUrl: 'http://localhost:4010' })).toBe(
			'http://localhost:4010',
		);
		expect(rules).toEqual([
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'type',
					value: 'error',
					message: 'Terros refused the key: check that it has not been revoked',
				},
			},
		]);
	});

	it('never sends the key over plain http to another host: the test upgrades it to https', () => {
		const { request } = credential.test;
		expect(evaluate(request.baseURL, { baseUrl: 'http://api.terros.com' })).toBe(
			'https://api.terros.com',
		);
		expect(evaluate(request.baseURL, { baseUrl: 'HTTP://127.0.0.1.example.com:80/' })).toBe(
			'https://127.0.0.1.example.com:80',
		);
	});

	it('whose test request succeeds against the simulator with a good key only', async () => {
		const { sim } = handle;
		const send = async (apiKey) => {
			const { request } = credential.test;
			const baseURL = evaluate(request.baseURL, { baseUrl: `${sim.baseUrl}/` });
			return fetch(`${baseURL}${request.url}`, {
				method: request.method,
				headers: {
					Authorization: fill(credential.authenticate.properties.headers.Authorization, { apiKey }),
					'Content-Type': 'application/json',
				},
				body: JSON.stringify(request.body),
			});
		};
		const good = await send('sim-key-acme');
		expect(good.status).toBe(200);
		expect(await good.json()).toEqual({
			type: 'success',
			user: { userId: 'User:acme-admin', email: 'admin@acme.example', companyId: 'Company:acme' },
		});
		const bad = await send('revoked-key');
		expect(bad.status).toBe(403);
		expect(sim.requests.map((r) => r.path)).toEqual(['/user/get', '/user/get']);
	});
});

describe('the base URL, through the node', () => {
	it('refuses plain http:// to another host, naming it, before any request', async () => {
		const { sim } = handle;
		const result = await runGet(sim, 'http://api.example.com', 'Import:abc123');
		expect(result.status).toBe('error');
		const error = result.error('Get');
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: 'The Terros base URL must start with https:// (got http://api.example.com)',
			description: HTTPS_ONLY,
			httpCode: null,
		});
		expect(error.context.itemIndex).toBe(0);
	});

	it('refuses plain http:// to a host that would reach the simulator, sending nothing', async () => {
		const { sim } = handle;
		// 0.0.0.0 connects to this machine, but it is not one of the loopback names allowed.
		const port = new URL(sim.baseUrl).port;
		const result = await runGet(sim, `http://0.0.0.0:${port}`, 'Import:abc123');
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeOperationError',
			message: `The Terros base URL must start with https:// (got http://0.0.0.0:${port})`,
			description: HTTPS_ONLY,
			httpCode: null,
		});
		expect(sim.requests).toHaveLength(0);
	});

	it('refuses a base URL that is not a URL', async () => {
		const { sim } = handle;
		const result = await runGet(sim, 'api.terros.com', 'Import:abc123');
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeOperationError',
			message: 'The Terros base URL "api.terros.com" is not a URL',
			description: 'Set the Base URL of the Terros API credential to https://api.terros.com.',
			httpCode: null,
		});
		expect(sim.requests).toHaveLength(0);
	});

	it.each([
		['one trailing slash', '/'],
		['several trailing slashes', '///'],
		['surrounding spaces', '  '],
	])('works with %s', async (_label, suffix) => {
		const { sim } = handle;
		const created = await createImportDirectly(sim, { entity: 'Account' });
		const importId = created.importData.importId;
		sim.requests = [];
		const baseUrl = suffix.trim() ? `${sim.baseUrl}${suffix}` : ` ${sim.baseUrl} `;
		const result = await runGet(sim, baseUrl, importId);
		expect(result.status).toBe('success');
		expect(result.output('Get')[0].json).toEqual(
			expect.objectContaining({ importId, importStatus: 'New' }),
		);
		expect(sim.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
			['POST', '/import/get', 'ApiKey sim-key-acme'],
		]);
	});
});
