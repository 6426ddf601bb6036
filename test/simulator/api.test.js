'use strict';

const { spawn } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const readline = require('node:readline');

const { startSimulator } = require('./index');
const { call, request, addImport } = require('./support/http');

const ENTITIES = ['Account', 'Contact', 'CalendarEvent', 'User', 'Task', 'Recruit'];
const ROUTES = [
	'/import/add',
	'/import/get',
	'/import/errors',
	'/import/list',
	'/import/cleanup',
	'/user/get',
];

/** The Import Options table of the guide: field, type and the entities it applies to. */
const OPTION_TABLE = [
	['name', 'string', ENTITIES],
	['disableGeocoding', 'boolean', ['Account', 'CalendarEvent', 'Contact', 'Recruit']],
	['addMissingUsers', 'boolean', ['Account', 'Contact', 'Recruit', 'User']],
	['createCustomLocations', 'boolean', ['Account', 'CalendarEvent', 'Contact', 'Recruit']],
	['notifyUsers', 'boolean', ['User']],
	['workflowId', 'string', ['Account']],
	['columnMapping', 'object', ENTITIES],
];
const SAMPLE = { string: 'x', boolean: true, object: { 'Full Name': 'name' } };

const invalid = (message) => ({ type: 'error', error: 'InvalidRequest', message });

let sim;

beforeAll(async () => {
	sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5 });
});

afterAll(() => sim.stop());

beforeEach(() => sim.reset());

describe('authentication', () => {
	it.each(ROUTES)('answers %s without a key with 403 {"message":"Forbidden"}', async (route) => {
		const res = await call(sim, route, {}, null);
		expect([res.status, res.text]).toEqual([403, '{"message":"Forbidden"}']);
	});

	it.each([
		['an unknown key', 'ApiKey sim-key-nobody'],
		['a Bearer token', 'Bearer sim-key-acme'],
		['the bare key', 'sim-key-acme'],
		['an empty key', 'ApiKey '],
	])('answers %s with 403 {"message":"Forbidden"}', async (_label, authorization) => {
		const res = await request(`${sim.baseUrl}/user/get`, {
			method: 'POST',
			headers: { Authorization: authorization, 'Content-Type': 'application/json' },
			body: '{}',
		});
		expect([res.status, res.headers['content-type'], res.text]).toEqual([
			403,
			'application/json',
			'{"message":"Forbidden"}',
		]);
	});

	it('returns the calling user from /user/get', async () => {
		const res = await call(sim, '/user/get');
		expect([res.status, res.body]).toEqual([
			200,
			{
				type: 'success',
				user: { userId: 'User:acme-admin', email: 'admin@acme.example', companyId: 'Company:acme' },
			},
		]);
	});

	it('tells each key its own user and company', async () => {
		const globex = await call(sim, '/user/get', {}, 'sim-key-globex');
		const viewer = await call(sim, '/user/get', {}, 'sim-key-acme-readonly');
		expect([globex.body.user, viewer.body.user]).toEqual([
			{ userId: 'User:globex-admin', email: 'admin@globex.example', companyId: 'Company:globex' },
			{ userId: 'User:acme-viewer', email: 'viewer@acme.example', companyId: 'Company:acme' },
		]);
	});
});

describe('read-only key', () => {
	const notAuthorized = {
		type: 'error',
		error: 'NotAuthorized',
		message: 'This API key is not allowed to manage imports',
	};

	it('gets a NotAuthorized envelope from /import/add', async () => {
		const res = await call(sim, '/import/add', { entity: 'Account' }, 'sim-key-acme-readonly');
		expect([res.status, res.body]).toEqual([200, notAuthorized]);
		expect(sim.imports.size).toBe(0);
	});

	it('gets a NotAuthorized envelope from /import/cleanup', async () => {
		const { importId } = await addImport(sim, { entity: 'Account' });
		const res = await call(sim, '/import/cleanup', { importId }, 'sim-key-acme-readonly');
		expect([res.status, res.body]).toEqual([200, notAuthorized]);
	});

	it("reads its company's imports", async () => {
		const { importId } = await addImport(sim, { entity: 'Task' });
		const get = await call(sim, '/import/get', { importId }, 'sim-key-acme-readonly');
		const list = await call(sim, '/import/list', {}, 'sim-key-acme-readonly');
		const errors = await call(sim, '/import/errors', { importId }, 'sim-key-acme-readonly');
		expect(get.body.log.importId).toBe(importId);
		expect(list.body.imports.map((i) => i.importId)).toEqual([importId]);
		expect(errors.body).toEqual({ type: 'success', records: [] });
	});
});

describe('company isolation', () => {
	it.each(['/import/get', '/import/errors', '/import/cleanup'])(
		"answers %s for another company's import with InvalidRequest",
		async (route) => {
			const { importId } = await addImport(sim, { entity: 'Account' });
			const res = await call(sim, route, { importId }, 'sim-key-globex');
			expect([res.status, res.body]).toEqual([200, invalid(`Import not found: ${importId}`)]);
		},
	);

	it("lists only the caller's company", async () => {
		const acme = await addImport(sim, { entity: 'Account' });
		const globex = await addImport(sim, { entity: 'Contact' }, 'sim-key-globex');
		const acmeList = await call(sim, '/import/list');
		const globexList = await call(sim, '/import/list', {}, 'sim-key-globex');
		expect(acmeList.body.imports.map((i) => i.importId)).toEqual([acme.importId]);
		expect(globexList.body.imports.map((i) => i.importId)).toEqual([globex.importId]);
	});
});

describe('requests', () => {
	it('answers an unknown route with 404 {"message":"Not Found"}', async () => {
		const res = await call(sim, '/import/delete', {});
		expect([res.status, res.text]).toEqual([404, '{"message":"Not Found"}']);
	});

	it('answers a GET on a route with 404', async () => {
		const res = await request(`${sim.baseUrl}/import/list`, {
			headers: { Authorization: 'ApiKey sim-key-acme' },
		});
		expect([res.status, res.text]).toEqual([404, '{"message":"Not Found"}']);
	});

	it('refuses a body that is not JSON', async () => {
		const res = await call(sim, '/import/list', '{"entity":');
		expect([res.status, res.body]).toEqual([200, invalid('Request body is not valid JSON')]);
	});

	it.each([
		['an array', '[]'],
		['null', 'null'],
		['a string', '"Account"'],
	])('refuses a body that is %s', async (_label, body) => {
		const res = await call(sim, '/import/add', body);
		expect([res.status, res.body]).toEqual([200, invalid('Request body must be a JSON object')]);
	});

	it('treats an empty body as {}', async () => {
		const res = await call(sim, '/import/list', '');
		expect([res.status, res.body]).toEqual([200, { type: 'success', imports: [] }]);
	});

	it.each([
		['missing', {}],
		['empty', { importId: '' }],
		['a number', { importId: 7 }],
	])('refuses /import/get with an importId that is %s', async (_label, body) => {
		const res = await call(sim, '/import/get', body);
		expect(res.body).toEqual(invalid('importId is required'));
	});

	it('refuses /import/get for an unknown import', async () => {
		const res = await call(sim, '/import/get', { importId: 'Import:000000000000' });
		expect(res.body).toEqual(invalid('Import not found: Import:000000000000'));
	});
});

describe('add import', () => {
	it.each(ENTITIES)('creates a %s import in status New', async (entity) => {
		const res = await call(sim, '/import/add', { entity, name: `${entity} load` });
		expect([res.status, res.body]).toEqual([
			200,
			{
				type: 'success',
				url: expect.any(String),
				importData: {
					importId: expect.stringMatching(/^Import:[0-9a-f]{12}$/),
					entity,
					name: `${entity} load`,
					importStatus: 'New',
				},
			},
		]);
	});

	it('leaves name out of importData when none was given', async () => {
		const res = await call(sim, '/import/add', { entity: 'Task' });
		expect(Object.keys(res.body.importData)).toEqual(['importId', 'entity', 'importStatus']);
	});

	it('gives every import its own id', async () => {
		const ids = await Promise.all(
			Array.from({ length: 20 }, () => addImport(sim, { entity: 'Account' })),
		);
		expect(new Set(ids.map((i) => i.importId)).size).toBe(20);
	});

	it('returns a SigV4 PUT URL on the S3 server, valid 3600 s, signing content-type', async () => {
		const res = await call(sim, '/import/add', { entity: 'Account' });
		const { importId } = res.body.importData;
		const url = new URL(res.body.url);
		const q = url.searchParams;
		expect(url.origin).toBe(sim.s3Url);
		expect(decodeURIComponent(url.pathname)).toBe(`/terros-imports/imports/${importId}/upload.csv`);
		expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
		expect(q.get('X-Amz-Credential')).toMatch(
			/^AKIASIMULATORTERROS\/\d{8}\/us-east-1\/s3\/aws4_request$/,
		);
		expect(q.get('X-Amz-Date')).toMatch(/^\d{8}T\d{6}Z$/);
		expect(q.get('X-Amz-Expires')).toBe('3600');
		expect(q.get('X-Amz-SignedHeaders').split(';')).toEqual(['content-type', 'host']);
		expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
	});

	it.each([
		['unknown', { entity: 'Invoice' }],
		['missing', {}],
		['lower-case', { entity: 'account' }],
		['not a string', { entity: ['Account'] }],
	])('refuses an entity that is %s', async (_label, body) => {
		const res = await call(sim, '/import/add', body);
		expect([res.status, res.body]).toEqual([
			200,
			invalid('entity must be one of Account, Contact, CalendarEvent, User, Task, Recruit'),
		]);
	});

	it('refuses an unknown field', async () => {
		const res = await call(sim, '/import/add', { entity: 'Account', priority: 'high' });
		expect([res.status, res.body]).toEqual([200, invalid('Unknown field: priority')]);
	});

	const applicability = OPTION_TABLE.flatMap(([field, type, applies]) =>
		ENTITIES.map((entity) => [field, entity, applies.includes(entity), SAMPLE[type]]),
	);

	it.each(applicability.filter((c) => c[2]))(
		'accepts %s on %s imports',
		async (field, entity, _ok, value) => {
			const res = await call(sim, '/import/add', { entity, [field]: value });
			expect(res.body).toMatchObject({
				type: 'success',
				importData: { entity, importStatus: 'New' },
			});
		},
	);

	it.each(applicability.filter((c) => !c[2]))(
		'refuses %s on %s imports',
		async (field, entity, _ok, value) => {
			const res = await call(sim, '/import/add', { entity, [field]: value });
			expect([res.status, res.body]).toEqual([
				200,
				invalid(`${field} does not apply to ${entity} imports`),
			]);
		},
	);

	it('accepts every option of an Account import at once', async () => {
		const res = await call(sim, '/import/add', {
			entity: 'Account',
			name: 'All options',
			disableGeocoding: true,
			addMissingUsers: false,
			createCustomLocations: true,
			workflowId: 'Workflow:1',
			columnMapping: { 'Account Name': 'name' },
		});
		expect(res.body.type).toBe('success');
	});

	it.each([
		['disableGeocoding', 'Contact'],
		['addMissingUsers', 'User'],
		['createCustomLocations', 'Recruit'],
		['notifyUsers', 'User'],
	])('refuses %s when it is not a boolean', async (field, entity) => {
		for (const value of ['true', 1, null, {}]) {
			const res = await call(sim, '/import/add', { entity, [field]: value });
			expect([res.status, res.body]).toEqual([200, invalid(`${field} must be a boolean`)]);
		}
	});

	it.each([
		['name', 'Task'],
		['workflowId', 'Account'],
	])('refuses %s when it is not a string', async (field, entity) => {
		for (const value of [42, true, null, ['x']]) {
			const res = await call(sim, '/import/add', { entity, [field]: value });
			expect([res.status, res.body]).toEqual([200, invalid(`${field} must be a string`)]);
		}
	});

	it.each([
		['an array', [['a', 'name']]],
		['a string', 'a=name'],
		['null', null],
		['an object with a number', { a: 1 }],
		['an object with null', { a: null }],
		['an object with an object', { a: { b: 'name' } }],
	])('refuses a columnMapping that is %s', async (_label, columnMapping) => {
		const res = await call(sim, '/import/add', { entity: 'Contact', columnMapping });
		expect([res.status, res.body]).toEqual([
			200,
			invalid('columnMapping must be an object whose values are strings'),
		]);
	});

	it('accepts an empty columnMapping', async () => {
		const res = await call(sim, '/import/add', { entity: 'Contact', columnMapping: {} });
		expect(res.body.type).toBe('success');
	});
});

describe('list imports', () => {
	it('lists imports newest first with their log, name and createdAt', async () => {
		const before = Date.now();
		const first = await addImport(sim, { entity: 'Account', name: 'first' });
		const second = await addImport(sim, { entity: 'Contact', name: 'second' });
		const third = await addImport(sim, { entity: 'Task' });
		const res = await call(sim, '/import/list');
		const entry = (importId, entity, name) => ({
			importId,
			entity,
			importStatus: 'New',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			completedAt: null,
			name,
			createdAt: expect.any(Number),
		});
		expect([res.status, res.body]).toEqual([
			200,
			{
				type: 'success',
				imports: [
					entry(third.importId, 'Task', undefined),
					entry(second.importId, 'Contact', 'second'),
					entry(first.importId, 'Account', 'first'),
				],
			},
		]);
		for (const i of res.body.imports) expect(i.createdAt).toBeGreaterThanOrEqual(before);
	});

	it('keeps newest-first order for imports created in the same millisecond', async () => {
		const ids = [];
		for (let i = 0; i < 10; i++) ids.push((await addImport(sim, { entity: 'Account' })).importId);
		const res = await call(sim, '/import/list');
		expect(res.body.imports.map((i) => i.importId)).toEqual(ids.reverse());
	});

	it('is empty for a company without imports', async () => {
		await addImport(sim, { entity: 'Account' });
		const res = await call(sim, '/import/list', {}, 'sim-key-globex');
		expect(res.body).toEqual({ type: 'success', imports: [] });
	});
});

describe('get import', () => {
	it('returns the log of a new import', async () => {
		const { importId } = await addImport(sim, { entity: 'Recruit', name: 'r' });
		const res = await call(sim, '/import/get', { importId });
		expect(res.body).toEqual({
			type: 'success',
			log: {
				importId,
				entity: 'Recruit',
				importStatus: 'New',
				successes: 0,
				errors: 0,
				totalMessages: 0,
				completedAt: null,
			},
		});
	});
});

describe('options', () => {
	it('takes its own API keys', async () => {
		const custom = await startSimulator({
			apiPort: 0,
			s3Port: 0,
			keys: {
				'key-initech': {
					company: 'initech',
					userId: 'User:peter',
					email: 'peter@initech.example',
					canWrite: true,
				},
			},
		});
		try {
			const own = await call(custom, '/user/get', {}, 'key-initech');
			const acme = await call(custom, '/user/get', {}, 'sim-key-acme');
			expect(own.body.user).toEqual({
				userId: 'User:peter',
				email: 'peter@initech.example',
				companyId: 'Company:initech',
			});
			expect([acme.status, acme.text]).toEqual([403, '{"message":"Forbidden"}']);
		} finally {
			await custom.stop();
		}
	});
});

describe('command line', () => {
	it('starts on the given ports, prints its URLs and the key, and stops on SIGTERM', async () => {
		const args = [
			path.join(__dirname, 'cli.js'),
			'--port',
			'0',
			'--s3-port',
			'0',
			'--step-ms',
			'5',
		];
		const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
		const exited = once(child, 'exit');
		try {
			const lines = [];
			const reader = readline.createInterface({ input: child.stdout });
			reader.on('line', (line) => lines.push(line));
			while (!lines.includes('Press Ctrl+C to stop.')) await once(reader, 'line');
			const [, baseUrl] = /Base URL: +(\S+)/.exec(lines.join('\n'));
			const [, s3Url] = /S3 URL: +(\S+)/.exec(lines.join('\n'));
			expect(lines).toEqual([
				'Terros simulator listening',
				`  Base URL:  ${baseUrl}`,
				`  S3 URL:    ${s3Url}`,
				'  API key:   sim-key-acme',
				'Press Ctrl+C to stop.',
			]);
			expect([baseUrl, s3Url]).toEqual([
				expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
				expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
			]);
			const res = await call({ baseUrl }, '/user/get');
			expect(res.body.user.companyId).toBe('Company:acme');
		} finally {
			child.kill('SIGTERM');
		}
		expect(await exited).toEqual([0, null]);
	});
});
