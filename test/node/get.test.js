'use strict';

/** Get: one import's status and counts, with the error handling of a read. */

const {
	SAMPLE_CSV,
	createImportDirectly,
	errorShape,
	run,
	settle,
	terros,
	uploadDirectly,
	useSimulator,
} = require('./helpers');

const handle = useSimulator();

const INVALID_REQUEST =
	'Terros error InvalidRequest. Terros rejected the request as sent. Check the parameters named in the message.';
const SERVER_ENVELOPE =
	'Terros error Server. Terros had an internal problem. This is usually temporary: run the node again later.';
const UNAVAILABLE =
	'Terros or a proxy in front of it failed to answer. This is usually temporary: run the node again later.';
const NOT_JSON = (shown) =>
	`Expected a JSON object, got ${shown}. A proxy or a network problem may have cut the answer short; run the node again.`;

let completed; // { importId, log } of a Completed import with 3 failed rows
let fresh; // importId of an import that never got a file

function getCalls(sim) {
	return sim.requests.filter((r) => r.path === '/import/get');
}

function getNode(parameters = {}, extra = {}) {
	return terros('Get', 'get', parameters, extra);
}

beforeAll(async () => {
	const { sim } = handle;
	const created = await createImportDirectly(sim, { entity: 'Account', name: 'Get tests' });
	await uploadDirectly(created.url, SAMPLE_CSV);
	const log = await settle(sim, created.importData.importId);
	completed = { importId: created.importData.importId, log };
	fresh = (await createImportDirectly(sim, { entity: 'Contact' })).importData.importId;
});

beforeEach(() => {
	handle.sim.faults = [];
	handle.sim.requests = [];
});

describe('success', () => {
	it('outputs the import log with its ID, paired to the input item', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ other: 1 }], [getNode({ importId: completed.importId })]);
		expect(result.status).toBe('success');
		expect(result.output('Get')).toEqual([
			{
				json: {
					importId: completed.importId,
					entity: 'Account',
					importStatus: 'Completed',
					successes: 2,
					errors: 3,
					totalMessages: 5,
					completedAt: completed.log.completedAt,
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(typeof completed.log.completedAt).toBe('number');
		const calls = getCalls(sim);
		expect(calls).toHaveLength(1);
		expect(calls[0].method).toBe('POST');
		expect(calls[0].headers.authorization).toBe('ApiKey sim-key-acme');
		expect(sim.requests).toHaveLength(1);
	});

	it('reads the import ID from each incoming item by default', async () => {
		const { sim } = handle;
		const result = await run(
			sim,
			[{ importId: fresh }, { importId: `  ${completed.importId}  ` }],
			[getNode()],
		);
		expect(result.status).toBe('success');
		const output = result.output('Get');
		expect(output).toEqual([
			{
				json: {
					importId: fresh,
					entity: 'Contact',
					importStatus: 'New',
					successes: 0,
					errors: 0,
					totalMessages: 0,
					completedAt: null,
				},
				pairedItem: { item: 0 },
			},
			{
				json: expect.objectContaining({ importId: completed.importId, importStatus: 'Completed' }),
				pairedItem: { item: 1 },
			},
		]);
		expect(getCalls(sim)).toHaveLength(2);
	});
});

describe('bad input, caught before any request', () => {
	it('refuses an item without an importId', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ id: 'Import:abc' }], [getNode()]);
		expect(result.status).toBe('error');
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeOperationError',
			message: 'The import ID is empty',
			description:
				'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
			httpCode: null,
		});
		expect(result.error('Get').context.itemIndex).toBe(0);
		expect(sim.requests).toHaveLength(0);
	});

	it('refuses an import ID of spaces only', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [getNode({ importId: '   ' })]);
		expect(errorShape(result.error('Get')).message).toBe('The import ID is empty');
		expect(sim.requests).toHaveLength(0);
	});

	it('refuses a malformed import ID, naming it', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ importId: 'Import abc/../x' }], [getNode()]);
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeOperationError',
			message: '"Import abc/../x" is not an import ID',
			description: 'Import IDs look like Import:abc123, as returned by the Create operation.',
			httpCode: null,
		});
		expect(sim.requests).toHaveLength(0);
	});

	it('shortens a long malformed import ID to 60 characters in the message', async () => {
		const { sim } = handle;
		const long = 'x'.repeat(100);
		const result = await run(sim, [{ importId: long }], [getNode()]);
		expect(result.error('Get').message).toBe(`"${'x'.repeat(60)}" is not an import ID`);
		expect(sim.requests).toHaveLength(0);
	});
});

describe('Terros refusals', () => {
	it('reports an unknown import as Terros’ InvalidRequest, without retrying', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ importId: 'Import:doesnotexist' }], [getNode()]);
		const error = result.error('Get');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Import not found: Import:doesnotexist',
			description: INVALID_REQUEST,
			httpCode: '200',
		});
		expect(error.context).toEqual(
			expect.objectContaining({
				importId: 'Import:doesnotexist',
				terrosError: 'InvalidRequest',
				itemIndex: 0,
			}),
		);
		expect(getCalls(sim)).toHaveLength(1);
	});

	it('does not show another company’s import', async () => {
		const { sim } = handle;
		const globex = await createImportDirectly(sim, { entity: 'Task' }, 'sim-key-globex');
		const otherId = globex.importData.importId;
		sim.requests = [];
		const result = await run(sim, [{ importId: otherId }], [getNode()]);
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: `Get import failed: Import not found: ${otherId}`,
			description: INVALID_REQUEST,
			httpCode: '200',
		});
		expect(getCalls(sim)).toHaveLength(1);
		// The owner does see it.
		const own = await run(sim, [{ importId: otherId }], [getNode()], 'sim-key-globex');
		expect(own.output('Get')[0].json).toEqual(
			expect.objectContaining({ importId: otherId, entity: 'Task', importStatus: 'New' }),
		);
	});

	it('reports a refused API key with HTTP 403, without retrying', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ importId: completed.importId }], [getNode()], 'not-a-key');
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros refused the API key (HTTP 403)',
			description:
				'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.',
			httpCode: '403',
		});
		expect(getCalls(sim)).toHaveLength(1);
		expect(getCalls(sim)[0].status).toBe(403);
	});
});

describe('transient faults are retried', () => {
	async function getWith(fault) {
		const { sim } = handle;
		sim.inject({ route: '/import/get', ...fault });
		return run(sim, [{ importId: completed.importId }], [getNode()]);
	}

	function expectLog(result) {
		expect(result.status).toBe('success');
		expect(result.output('Get')).toEqual([
			{
				json: expect.objectContaining({ importId: completed.importId, importStatus: 'Completed' }),
				pairedItem: { item: 0 },
			},
		]);
	}

	it('waits out a 429 as long as Retry-After says (capped in tests), then succeeds', async () => {
		const result = await getWith({ kind: 'throttle', retryAfter: 1, times: 2 });
		expectLog(result);
		const calls = getCalls(handle.sim);
		expect(calls.map((c) => c.status)).toEqual([429, 429, 200]);
		// Retry-After: 1 s is capped at 50 ms in tests; plain backoff would be at most 20 ms.
		expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(45);
		expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(45);
	});

	it('gives up on 429 after four attempts with the rate-limit error', async () => {
		const result = await getWith({ kind: 'throttle', retryAfter: 0, times: 0 });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is limiting the request rate (HTTP 429)',
			description:
				'Too many requests in a short time. Wait a minute, or space out the workflow’s runs.',
			httpCode: '429',
		});
		expect(getCalls(handle.sim)).toHaveLength(4);
	});

	it('retries HTTP 500 and succeeds on the fourth attempt', async () => {
		const result = await getWith({ kind: 'serverError', times: 3 });
		expectLog(result);
		expect(getCalls(handle.sim).map((c) => c.status)).toEqual([500, 500, 500, 200]);
	});

	it('gives up on HTTP 500 after four attempts', async () => {
		const result = await getWith({ kind: 'serverError', times: 0 });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is unavailable (HTTP 500)',
			description: UNAVAILABLE,
			httpCode: '500',
		});
		expect(getCalls(handle.sim)).toHaveLength(4);
	});

	it('retries HTTP 503', async () => {
		const result = await getWith({ kind: 'unavailable', times: 1 });
		expectLog(result);
		expect(getCalls(handle.sim).map((c) => c.status)).toEqual([503, 200]);
	});

	it('retries a dropped connection', async () => {
		const result = await getWith({ kind: 'drop', times: 2 });
		expectLog(result);
		expect(getCalls(handle.sim)).toHaveLength(3);
	});

	it('gives up on dropped connections after four attempts, keeping its own message', async () => {
		const result = await getWith({ kind: 'drop', times: 0 });
		const error = result.error('Get');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message:
				'Get import failed: the connection was closed before an answer came (POST /import/get)',
			description:
				'Check the network and the Base URL of the Terros API credential, then run the node again.',
			httpCode: null,
		});
		expect(error.context.importId).toBe(completed.importId);
		expect(getCalls(handle.sim)).toHaveLength(4);
	});

	it('retries a Server envelope (HTTP 200, type error)', async () => {
		const result = await getWith({ kind: 'envelope', error: 'Server', times: 1 });
		expectLog(result);
		expect(getCalls(handle.sim)).toHaveLength(2);
	});

	it('gives up on Server envelopes after four attempts', async () => {
		const result = await getWith({
			kind: 'envelope',
			error: 'Server',
			message: 'Database unavailable',
			times: 0,
		});
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Database unavailable',
			description: SERVER_ENVELOPE,
			httpCode: '200',
		});
		expect(result.error('Get').context.terrosError).toBe('Server');
		expect(getCalls(handle.sim)).toHaveLength(4);
	});

	it('does not retry a Server envelope that says retry: false', async () => {
		const result = await getWith({ kind: 'envelope', error: 'Server', retry: false, times: 0 });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Internal server error',
			description: SERVER_ENVELOPE,
			httpCode: '200',
		});
		expect(getCalls(handle.sim)).toHaveLength(1);
	});

	it('retries an InvalidRequest envelope that says retry: true', async () => {
		const result = await getWith({
			kind: 'envelope',
			error: 'InvalidRequest',
			message: 'try later',
			retry: true,
			times: 1,
		});
		expectLog(result);
		expect(getCalls(handle.sim)).toHaveLength(2);
	});
});

describe('answers that are not Terros JSON', () => {
	async function getWith(fault) {
		const { sim } = handle;
		sim.inject({ route: '/import/get', times: 0, ...fault });
		return run(sim, [{ importId: completed.importId }], [getNode()]);
	}

	it('an HTML page with HTTP 200', async () => {
		const result = await getWith({ kind: 'html', status: 200 });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros sent an answer that is not valid JSON',
			description: NOT_JSON('an HTML page'),
			httpCode: '200',
		});
		expect(getCalls(handle.sim)).toHaveLength(1);
	});

	it('an empty body', async () => {
		const result = await getWith({ kind: 'empty' });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros sent an answer that is not valid JSON',
			description: NOT_JSON('an empty body'),
			httpCode: '200',
		});
		expect(getCalls(handle.sim)).toHaveLength(1);
	});

	it('a truncated JSON body', async () => {
		const result = await getWith({ kind: 'truncated' });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros sent an answer that is not valid JSON',
			description: NOT_JSON('"{"type":"success","log":{"importId":"Imp"'),
			httpCode: '200',
		});
		expect(getCalls(handle.sim)).toHaveLength(1);
	});

	it('an HTML 502 from a proxy is retried, then reported with its status', async () => {
		const result = await getWith({ kind: 'html' });
		expect(errorShape(result.error('Get'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is unavailable (HTTP 502)',
			description: UNAVAILABLE,
			httpCode: '502',
		});
		expect(getCalls(handle.sim).map((c) => c.status)).toEqual([502, 502, 502, 502]);
	});
});

describe('continue on fail', () => {
	const items = () => [{ importId: 'Import:missing1' }, { importId: completed.importId }, {}];

	it('turns each failure into an error item paired to its input (regular output)', async () => {
		const { sim } = handle;
		const result = await run(sim, items(), [getNode({}, { onError: 'continueRegularOutput' })]);
		expect(result.status).toBe('success');
		expect(result.output('Get')).toEqual([
			{
				json: {
					error: 'Get import failed: Import not found: Import:missing1',
					description: INVALID_REQUEST,
					httpCode: '200',
					importId: 'Import:missing1',
				},
				pairedItem: { item: 0 },
			},
			{
				json: expect.objectContaining({ importId: completed.importId, importStatus: 'Completed' }),
				pairedItem: { item: 1 },
			},
			{
				json: {
					error: 'The import ID is empty',
					description:
						'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
				},
				pairedItem: { item: 2 },
			},
		]);
		expect(getCalls(sim)).toHaveLength(2);
	});

	it('sends failures to the error output and successes to the main output', async () => {
		const { sim } = handle;
		const input = [
			{ importId: 'Import:missing1', crm: 'a' },
			{ importId: completed.importId, crm: 'b' },
			{ crm: 'c' },
		];
		const result = await run(sim, input, [getNode({}, { onError: 'continueErrorOutput' })]);
		expect(result.status).toBe('success');
		expect(result.output('Get', 0)).toEqual([
			{
				json: expect.objectContaining({ importId: completed.importId, importStatus: 'Completed' }),
				pairedItem: { item: 1 },
			},
		]);
		// n8n adds the input item's fields to an error-output item.
		expect(result.output('Get', 1)).toEqual([
			{
				json: {
					importId: 'Import:missing1',
					crm: 'a',
					error: 'Get import failed: Import not found: Import:missing1',
					details: {
						description: INVALID_REQUEST,
						httpCode: '200',
						importId: 'Import:missing1',
					},
				},
				pairedItem: { item: 0 },
			},
			{
				json: {
					crm: 'c',
					error: 'The import ID is empty',
					details: {
						description:
							'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
					},
				},
				pairedItem: { item: 2 },
			},
		]);
		expect(getCalls(sim)).toHaveLength(2);
	});
});
