'use strict';

/**
 * Area 1, retries: which failures each kind of request retries, how long it waits, how often,
 * and which it never retries. Every fault is the simulator's, over real HTTP, through n8n's engine.
 */

const net = require('node:net');

const { startSimulator } = require('../simulator');
const {
	errorRows,
	SAMPLE_CSV,
	apiCalls,
	bigCsv,
	errorShape,
	gets,
	importWithErrors,
	input,
	listImports,
	md5,
	newImport,
	puts,
	restoreTiming,
	retry,
	run,
	terros,
	transportCall,
	useSimulator,
	useTempDir,
} = require('./support');
const { runWorkflow } = require('../harness/engine');

const handle = useSimulator();
const tmp = useTempDir();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
// Imports made for a group of tests stay; faults and recorded requests do not.
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});
afterEach(() => {
	sim.faults = [];
});
afterEach(restoreTiming);

const READ_ATTEMPTS = 4;
const UPLOAD_ATTEMPTS = 3;

/** The four read routes, each with the workflow that reads it and what its action is called. */
const READS = [
	{
		route: '/import/get',
		action: 'Get import',
		nodes: () => [terros('Read', 'get')],
	},
	{
		route: '/import/list',
		action: 'List imports',
		nodes: () => [terros('Read', 'getAll')],
	},
	{
		route: '/import/errors',
		action: 'Get import errors',
		nodes: () => [terros('Read', 'getErrors')],
	},
	{
		route: '/user/get',
		action: 'Get user',
		nodes: () => [transportCall('Read', '/user/get')],
	},
];

/** The transient faults a read is retried on, once each. */
const READ_FAULTS = [
	['a dropped connection', { kind: 'drop' }],
	['HTTP 429 with Retry-After', { kind: 'throttle', retryAfter: 0 }],
	['HTTP 500', { kind: 'serverError' }],
	['HTTP 502 from a proxy', { kind: 'html', status: 502 }],
	['HTTP 503', { kind: 'unavailable' }],
	['HTTP 504 from a proxy', { kind: 'html', status: 504 }],
	['a Terros Server error', { kind: 'envelope', error: 'Server' }],
	['a Terros Timeout error', { kind: 'envelope', error: 'Timeout' }],
];

describe('reads: retried on transient faults', () => {
	let importId;
	beforeAll(async () => {
		importId = await importWithErrors(sim);
	});

	// Every fault on Get Import; two on each other read route, which share its policy.
	const cases = READS.map((read) => ({
		...read,
		faults: read.route === '/import/get' ? READ_FAULTS : [READ_FAULTS[0], READ_FAULTS[4]],
	}));

	describe.each(cases)('$route', ({ route, nodes, faults }) => {
		it.each(faults)('after %s, succeeds on the second attempt', async (_, fault) => {
			sim.inject({ route, ...fault });
			const result = await run(sim, [{ importId }], nodes());
			expect(result.error('Read')).toBeUndefined();
			expect(result.status).toBe('success');
			expect(result.output('Read').length).toBeGreaterThan(0);
			expect(apiCalls(sim, route)).toHaveLength(2);
		});
	});

	it.each(READS)(
		'$route gives up after 4 attempts in all, with the last error',
		async ({ route, action, nodes }) => {
			sim.inject({ route, kind: 'serverError', times: 0 });
			const result = await run(sim, [{ importId }], nodes());
			expect(errorShape(result.error('Read'))).toMatchObject({
				name: 'NodeApiError',
				message: `${action} failed: Terros is unavailable (HTTP 500)`,
				httpCode: '500',
			});
			expect(apiCalls(sim, route)).toHaveLength(READ_ATTEMPTS);
		},
	);
});

describe('reads: waits between attempts', () => {
	let importId;
	beforeAll(async () => {
		({ importId } = await newImport(sim));
	});

	const gaps = () => {
		const times = apiCalls(sim, '/import/get').map((r) => r.at);
		return times.slice(1).map((t, i) => t - times[i]);
	};

	it('backs off exponentially: each wait is half to all of base × 2^(attempt-1)', async () => {
		retry.retryTiming.baseDelayMs = 40;
		retry.retryTiming.maxDelayMs = 10_000;
		sim.inject({ route: '/import/get', kind: 'serverError', times: 3 });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.status).toBe('success');
		const [g1, g2, g3] = gaps();
		// Waits of [20, 40], [40, 80] and [80, 160] ms, plus the time a request takes.
		expect(g1).toBeGreaterThanOrEqual(18);
		expect(g1).toBeLessThan(40 + 60);
		expect(g2).toBeGreaterThanOrEqual(38);
		expect(g2).toBeLessThan(80 + 60);
		expect(g3).toBeGreaterThanOrEqual(78);
		expect(g3).toBeLessThan(160 + 60);
	});

	it('never waits longer than the maximum delay', async () => {
		retry.retryTiming.baseDelayMs = 40;
		retry.retryTiming.maxDelayMs = 50;
		sim.inject({ route: '/import/get', kind: 'serverError', times: 3 });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.status).toBe('success');
		expect(Math.max(...gaps())).toBeLessThan(50 + 60);
	});

	it('adds jitter: the waits of one attempt spread over half to all of its ceiling', () => {
		retry.retryTiming.baseDelayMs = 40;
		retry.retryTiming.maxDelayMs = 10_000;
		const waits = Array.from({ length: 400 }, () => retry.backoffDelay(3));
		expect(Math.min(...waits)).toBeGreaterThanOrEqual(80);
		expect(Math.max(...waits)).toBeLessThanOrEqual(160);
		expect(new Set(waits).size).toBeGreaterThan(30);
		expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThan(50);
	});

	it('honours Retry-After in seconds', async () => {
		retry.retryTiming.maxRetryAfterMs = 5000;
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: 0.3 });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.status).toBe('success');
		const [gap] = gaps();
		expect(gap).toBeGreaterThanOrEqual(290);
		expect(gap).toBeLessThan(900);
	});

	it('honours Retry-After as an HTTP date', async () => {
		retry.retryTiming.maxRetryAfterMs = 400;
		const date = new Date(Date.now() + 5000).toUTCString();
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: date });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.status).toBe('success');
		// The date is seconds away: the wait is the cap, far above the 5–20 ms backoff.
		const [gap] = gaps();
		expect(gap).toBeGreaterThanOrEqual(380);
		expect(gap).toBeLessThan(1000);
	});

	it('caps a long Retry-After', async () => {
		retry.retryTiming.maxRetryAfterMs = 50;
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: 3600 });
		const started = Date.now();
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.status).toBe('success');
		expect(Date.now() - started).toBeLessThan(1000);
		expect(gaps()[0]).toBeLessThan(50 + 60);
	});

	it('gives up on 429 after 4 attempts with the rate-limit error', async () => {
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: 0, times: 0 });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is limiting the request rate (HTTP 429)',
			description:
				'Too many requests in a short time. Wait a minute, or space out the workflow’s runs.',
			httpCode: '429',
		});
		expect(apiCalls(sim, '/import/get')).toHaveLength(READ_ATTEMPTS);
	});
});

describe('reads: Terros’ retry flag', () => {
	let importId;
	beforeAll(async () => {
		({ importId } = await newImport(sim));
	});

	it('retry: false stops a Server error from being retried', async () => {
		sim.inject({ route: '/import/get', kind: 'envelope', error: 'Server', retry: false });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.error('Get').message).toBe('Get import failed: Internal server error');
		expect(apiCalls(sim, '/import/get')).toHaveLength(1);
	});

	it.each([['InvalidRequest'], ['NotAuthorized']])(
		'retry: true makes an %s error retried',
		async (error) => {
			sim.inject({ route: '/import/get', kind: 'envelope', error, retry: true, message: 'busy' });
			const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
			expect(result.status).toBe('success');
			expect(apiCalls(sim, '/import/get')).toHaveLength(2);
		},
	);

	it('without the flag an InvalidRequest error is not retried', async () => {
		sim.inject({ route: '/import/get', kind: 'envelope', error: 'InvalidRequest', message: 'no' });
		const result = await run(sim, [{ importId }], [terros('Get', 'get')]);
		expect(result.error('Get').message).toBe('Get import failed: no');
		expect(apiCalls(sim, '/import/get')).toHaveLength(1);
	});
});

describe('error-file downloads: retried on transient faults', () => {
	let importId;
	beforeAll(async () => {
		importId = await importWithErrors(sim);
	});

	const rows = () => errorRows(sim, importId);

	it.each([
		['a dropped connection', { kind: 'drop' }],
		['S3 503 SlowDown', { kind: 'throttle' }],
		['S3 500 InternalError', { kind: 'serverError' }],
		['S3 503 ServiceUnavailable', { kind: 'unavailable' }],
		['HTTP 502 from a proxy', { kind: 'html', status: 502 }],
		['HTTP 504 from a proxy', { kind: 'html', status: 504 }],
		['HTTP 429', { kind: 's3Error', status: 429, code: 'SlowDown', message: 'Slow down' }],
	])('after %s, downloads every file', async (_, fault) => {
		sim.inject({ route: 's3:get', ...fault });
		const result = await rows();
		expect(result.status).toBe('success');
		expect(result.output('Errors').map((i) => i.json.row)).toEqual([3, 4, 5]);
		expect(gets(sim)).toHaveLength(4);
	});

	it('gives up after 4 attempts with the storage error', async () => {
		sim.inject({ route: 's3:get', kind: 'serverError', times: 0 });
		const result = await rows();
		expect(result.error('Errors').message).toBe(
			'Download error file failed: the storage service had an internal error',
		);
		expect(gets(sim)).toHaveLength(READ_ATTEMPTS);
	});

	it('does not retry a 403 (a refused link)', async () => {
		sim.inject({
			route: 's3:get',
			kind: 's3Error',
			status: 403,
			code: 'AccessDenied',
			message: 'Access Denied',
		});
		const result = await rows();
		expect(result.error('Errors').message).toBe(
			'Download error file failed: the error file’s download link is no longer valid',
		);
		expect(gets(sim)).toHaveLength(1);
	});
});

describe('Add Import: never retried once the request may have reached Terros', () => {
	beforeEach(() => sim.reset());
	const create = (extra = {}) => run(sim, [{}], [terros('Create', 'create', {}, extra)]);
	const MAY_EXIST =
		'The request may have reached Terros before the connection failed, so the import may exist. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.';
	const ANSWER_AMBIGUOUS =
		'Terros may have created the import before this answer came. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.';

	it('the policy says so, as data', () => {
		expect(retry.RETRY_POLICIES.create).toEqual({
			maxAttempts: 3,
			retryStatuses: [429],
			retryConnectionErrors: false,
			retryTerrosErrors: [],
			honourRetryFlag: false,
		});
	});

	it('a connection dropped after Terros created the import leaves exactly one import, and the error says to check List Imports', async () => {
		sim.inject({ route: '/import/add', kind: 'dropAfter' });
		const result = await create();
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message:
				'Create import failed: the connection was closed before an answer came (POST /import/add)',
			description: MAY_EXIST,
			httpCode: null,
		});
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
		const imports = await listImports(sim);
		expect(imports).toHaveLength(1);
		expect(imports[0].importStatus).toBe('New');
	});

	it('the same inside Import File, as an error item under continueOnFail', async () => {
		sim.inject({ route: '/import/add', kind: 'dropAfter' });
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[terros('Import', 'importFile', {}, { onError: 'continueRegularOutput' })],
		);
		const [item] = result.output('Import');
		expect(item.json).toEqual({
			error:
				'Create import failed: the connection was closed before an answer came (POST /import/add)',
			description: MAY_EXIST,
		});
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
		expect(await listImports(sim)).toHaveLength(1);
		expect(puts(sim)).toHaveLength(0);
	});

	it('a connection dropped before Terros read the request is not retried either', async () => {
		sim.inject({ route: '/import/add', kind: 'drop' });
		const result = await create();
		expect(result.error('Create').description).toBe(MAY_EXIST);
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	});

	it.each([
		['HTTP 500', { kind: 'serverError' }, 'Create import failed: Terros is unavailable (HTTP 500)'],
		['HTTP 503', { kind: 'unavailable' }, 'Create import failed: Terros is unavailable (HTTP 503)'],
		[
			'HTTP 502 from a proxy',
			{ kind: 'html', status: 502 },
			'Create import failed: Terros is unavailable (HTTP 502)',
		],
		[
			'HTTP 504 from a proxy',
			{ kind: 'html', status: 504 },
			'Create import failed: Terros is unavailable (HTTP 504)',
		],
		[
			'a truncated answer',
			{ kind: 'truncated' },
			'Create import failed: Terros sent an answer that is not valid JSON',
		],
		[
			'an empty answer',
			{ kind: 'empty' },
			'Create import failed: Terros sent an answer that is not valid JSON',
		],
	])('%s: one attempt, and the error says to check List Imports', async (_, fault, message) => {
		sim.inject({ route: '/import/add', ...fault });
		const result = await create();
		const error = result.error('Create');
		expect(error.message).toBe(message);
		expect(error.description.endsWith(ANSWER_AMBIGUOUS)).toBe(true);
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	});

	it.each([
		['a Server error', { error: 'Server' }],
		['a Timeout error', { error: 'Timeout' }],
		['a Server error with retry: true', { error: 'Server', retry: true }],
	])('%s from Terros: one attempt', async (_, envelope) => {
		sim.inject({ route: '/import/add', kind: 'envelope', message: 'busy', ...envelope });
		const result = await create();
		expect(result.error('Create').message).toBe('Create import failed: busy');
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	});

	it('is retried after a 429, which Terros answers before creating anything: one import', async () => {
		sim.inject({ route: '/import/add', kind: 'throttle', retryAfter: 0 });
		const result = await create();
		expect(result.status).toBe('success');
		expect(apiCalls(sim, '/import/add')).toHaveLength(2);
		expect(await listImports(sim)).toHaveLength(1);
	});

	it('a refused connection (nothing reached Terros) does not warn of a duplicate', async () => {
		const closed = net.createServer();
		await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const { port } = closed.address();
		await new Promise((resolve) => closed.close(resolve));
		const result = await runWorkflow({
			nodes: [input([{}]), terros('Create', 'create')],
			credentials: { apiKey: 'sim-key-acme', baseUrl: `http://127.0.0.1:${port}` },
		});
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: the connection was refused (POST /import/add)',
			description:
				'Check the network and the Base URL of the Terros API credential, then run the node again.',
			httpCode: null,
		});
	});
});

describe('upload: retried on transient S3 faults, with a fresh stream each time', () => {
	const SIZE = 1_500_000;
	let text;
	let file;
	beforeAll(() => {
		text = bigCsv(SIZE);
		file = tmp.file('big.csv', text);
	});

	async function uploadWith(fault) {
		const target = await newImport(sim);
		sim.requests = [];
		if (fault) sim.inject({ route: 's3:put', ...fault });
		const result = await run(
			sim,
			[{ ...target, binaryFile: file, fileName: 'big.csv' }],
			[terros('Upload', 'uploadFile')],
		);
		return { target, result };
	}

	it.each([
		['S3 500 InternalError', { kind: 'serverError' }],
		['S3 503 SlowDown', { kind: 'throttle' }],
		['S3 503 ServiceUnavailable', { kind: 'unavailable' }],
		['S3 400 RequestTimeout', { kind: 'requestTimeout' }],
		['a connection dropped before any answer', { kind: 'drop' }],
	])('after %s, the second PUT sends the whole file again', async (_, fault) => {
		const { target, result } = await uploadWith(fault);
		expect(result.error('Upload')).toBeUndefined();
		const bytes = Buffer.byteLength(text);
		// The file came from n8n's binary store, not inline data.
		expect(result.output('Input')[0].binary.data.id).toMatch(/^filesystem/);
		expect(result.output('Upload')[0].json).toMatchObject({
			uploaded: true,
			bytes,
			attempts: 2,
			etag: md5(text),
		});
		expect(puts(sim).map((p) => p.headers['content-length'])).toEqual([
			String(bytes),
			String(bytes),
		]);
		const record = sim.imports.get(target.importId);
		expect([record.uploads, record.uploadedBytes]).toEqual([1, bytes]);
	});

	it('gives up after 3 attempts', async () => {
		const { result } = await uploadWith({ kind: 'serverError', times: 0 });
		expect(result.error('Upload').message).toBe(
			'Upload file failed: the storage service had an internal error',
		);
		expect(puts(sim)).toHaveLength(UPLOAD_ATTEMPTS);
	});

	it.each([
		['400 InvalidArgument', { kind: 's3Error', status: 400, code: 'InvalidArgument' }],
		['403 AccessDenied', { kind: 's3Error', status: 403, code: 'AccessDenied' }],
		['403 SignatureDoesNotMatch', { kind: 's3Error', status: 403, code: 'SignatureDoesNotMatch' }],
		['400 EntityTooLarge', { kind: 's3Error', status: 400, code: 'EntityTooLarge' }],
		['411 MissingContentLength', { kind: 's3Error', status: 411, code: 'MissingContentLength' }],
		['501 NotImplemented', { kind: 's3Error', status: 501, code: 'NotImplemented' }],
		['502 from a proxy', { kind: 'html', status: 502 }],
	])('is never retried on %s', async (_, fault) => {
		const { result } = await uploadWith(fault);
		expect(result.error('Upload')).toBeDefined();
		expect(puts(sim)).toHaveLength(1);
	});

	it('is never retried on a real expired URL', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const { result } = await uploadWith();
		expect(result.error('Upload').message).toBe('Upload file failed: the upload URL expired');
		expect(puts(sim)).toHaveLength(1);
	});

	it('is never retried on a real EntityTooLarge', async () => {
		const small = await startSimulator({ stepMs: 5, maxUploadBytes: 1000 });
		try {
			const target = await newImport(small);
			small.requests = [];
			const result = await run(
				small,
				[{ ...target, binaryFile: file }],
				[terros('Upload', 'uploadFile')],
			);
			expect(result.error('Upload').message).toBe(
				'Upload file failed: the file is larger than one upload may be (5 GB)',
			);
			expect(puts(small)).toHaveLength(1);
		} finally {
			await small.stop();
		}
	});
});

describe('clean up: idempotent, so retried', () => {
	it('retries a 503 and cleans up once', async () => {
		const importId = await importWithErrors(sim);
		sim.requests = [];
		sim.inject({ route: '/import/cleanup', kind: 'unavailable' });
		const result = await run(sim, [{ importId }], [terros('Clean', 'cleanUp')]);
		expect(result.output('Clean')[0].json).toEqual({
			importId,
			importStatus: 'Completed',
			cleanedUp: true,
		});
		expect(apiCalls(sim, '/import/cleanup')).toHaveLength(2);
	});
});
