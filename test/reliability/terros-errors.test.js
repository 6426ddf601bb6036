'use strict';

/**
 * Area 2, Terros' answers: each error envelope by its type, a refused key, server errors, and
 * bodies that are not Terros JSON (a proxy's HTML page, empty, cut short): always a NodeApiError
 * with words a user can act on and the HTTP status kept, never a crash or "undefined".
 */

const {
	SAMPLE_CSV,
	apiCalls,
	errorShape,
	newImport,
	run,
	terros,
	useSimulator,
} = require('./support');

const handle = useSimulator();
let sim;
let importId;

beforeAll(async () => {
	sim = handle.sim;
	({ importId } = await newImport(sim));
});
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});
afterEach(() => {
	sim.faults = [];
});

const ADVICE = {
	NotAuthorized:
		'Terros error NotAuthorized. The API key is valid but may not do this. Ask a Terros admin to check the key’s permissions under Company Settings → API Keys.',
	InvalidRequest:
		'Terros error InvalidRequest. Terros rejected the request as sent. Check the parameters named in the message.',
	Server:
		'Terros error Server. Terros had an internal problem. This is usually temporary: run the node again later.',
	Timeout:
		'Terros error Timeout. Terros took too long to answer. This is usually temporary: run the node again later.',
};
const KEY_REFUSED =
	'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.';
const UNAVAILABLE =
	'Terros or a proxy in front of it failed to answer. This is usually temporary: run the node again later.';
const ADD_AMBIGUOUS =
	'Terros may have created the import before this answer came. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.';

const get = (apiKey) => run(sim, [{ importId }], [terros('Node', 'get')], apiKey);
const create = (apiKey, parameters = {}) =>
	run(sim, [{}], [terros('Node', 'create', parameters)], apiKey);

/** The node's error must be a complete NodeApiError: no crash, nothing undefined. */
function expectWhole(error) {
	expect(error).toBeDefined();
	expect(error.name).toBe('NodeApiError');
	for (const text of [error.message, error.description]) {
		expect(typeof text).toBe('string');
		expect(text).not.toMatch(/undefined|\[object Object\]|Unexpected token|SyntaxError/);
	}
	return errorShape(error);
}

describe('HTTP 200 { type: "error" } by its error type', () => {
	it('NotAuthorized (a read-only key creating an import): check the key’s permissions', async () => {
		const result = await create('sim-key-acme-readonly');
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: This API key is not allowed to manage imports',
			description: ADVICE.NotAuthorized,
			httpCode: '200',
		});
		expect(result.error('Node').context.terrosError).toBe('NotAuthorized');
	});

	it('InvalidRequest from Terros itself (an unknown import): its message, naming the ID', async () => {
		const result = await run(sim, [{ importId: 'Import:doesnotexist' }], [terros('Node', 'get')]);
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Import not found: Import:doesnotexist',
			description: ADVICE.InvalidRequest,
			httpCode: '200',
		});
		// Not retried: the request itself is wrong.
		expect(apiCalls(sim, '/import/get')).toHaveLength(1);
	});

	it('InvalidRequest naming a field Terros refused: the message and the field, one attempt', async () => {
		sim.inject({
			route: '/import/add',
			kind: 'envelope',
			error: 'InvalidRequest',
			message: 'workflowId: Workflow:nope does not exist',
		});
		const result = await create(undefined, { options: { workflowId: 'Workflow:nope' } });
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: workflowId: Workflow:nope does not exist',
			description: ADVICE.InvalidRequest,
			httpCode: '200',
		});
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	});

	it.each([['Server'], ['Timeout']])(
		'%s: transient, retried on reads, then reported as temporary',
		async (type) => {
			sim.inject({
				route: '/import/get',
				kind: 'envelope',
				error: type,
				message: 'Try later',
				times: 0,
			});
			const result = await get();
			expect(expectWhole(result.error('Node'))).toEqual({
				name: 'NodeApiError',
				message: 'Get import failed: Try later',
				description: ADVICE[type],
				httpCode: '200',
			});
			expect(apiCalls(sim, '/import/get')).toHaveLength(4);
		},
	);

	it('an error type the node does not know: said so, with the message', async () => {
		sim.inject({ route: '/import/get', kind: 'envelope', error: 'Quota', message: 'Over quota' });
		const result = await get();
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Over quota',
			description:
				'Terros error Quota. Terros reported an error of a kind this node does not know.',
			httpCode: '200',
		});
	});

	it('an envelope without a message', async () => {
		sim.inject({ route: '/import/get', kind: 'envelope', error: 'InvalidRequest', message: '' });
		const result = await get();
		expect(expectWhole(result.error('Node')).message).toBe('Get import failed: no message given');
	});
});

describe('HTTP 403 {"message":"Forbidden"}: the key is invalid or revoked', () => {
	it.each([
		['Get', () => get('sim-key-revoked'), 'Get import'],
		['Create', () => create('sim-key-revoked'), 'Create import'],
		[
			'Get Many',
			() => run(sim, [{}], [terros('Node', 'getAll')], 'sim-key-revoked'),
			'List imports',
		],
		[
			'Import File',
			() =>
				run(sim, [{ binaryText: SAMPLE_CSV }], [terros('Node', 'importFile')], 'sim-key-revoked'),
			'Create import',
		],
	])('%s', async (_, go, action) => {
		const result = await go();
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: `${action} failed: Terros refused the API key (HTTP 403)`,
			description: KEY_REFUSED,
			httpCode: '403',
		});
		// A refused key is not retried.
		expect(sim.requests.filter((r) => r.server === 'api')).toHaveLength(1);
	});
});

describe('HTTP 5xx', () => {
	it('500 on a read: retried, then "unavailable" with the status', async () => {
		sim.inject({ route: '/import/get', kind: 'serverError', times: 0 });
		const result = await get();
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is unavailable (HTTP 500)',
			description: UNAVAILABLE,
			httpCode: '500',
		});
	});

	it('500 on Add Import: once, and the import may exist', async () => {
		sim.inject({ route: '/import/add', kind: 'serverError' });
		const result = await create();
		expect(expectWhole(result.error('Node'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: Terros is unavailable (HTTP 500)',
			description: `${UNAVAILABLE} ${ADD_AMBIGUOUS}`,
			httpCode: '500',
		});
	});
});

describe('bodies that are not Terros JSON keep their HTTP status', () => {
	const NOT_JSON = (got) =>
		`Expected a JSON object, got ${got}. A proxy or a network problem may have cut the answer short; run the node again.`;

	it.each([
		[
			'a proxy’s HTML page with HTTP 200',
			{ kind: 'html', status: 200 },
			{
				message: 'Get import failed: Terros sent an answer that is not valid JSON',
				description: NOT_JSON('an HTML page'),
				httpCode: '200',
			},
		],
		[
			'a proxy’s HTML page with HTTP 502',
			{ kind: 'html', status: 502 },
			{
				message: 'Get import failed: Terros is unavailable (HTTP 502)',
				description: UNAVAILABLE,
				httpCode: '502',
			},
		],
		[
			'a proxy’s HTML page with HTTP 404',
			{ kind: 'html', status: 404 },
			{
				message: 'Get import failed: Terros answered HTTP 404',
				description:
					'Unexpected answer: an HTML page. Check the Base URL of the Terros API credential.',
				httpCode: '404',
			},
		],
		[
			'an empty body with HTTP 200',
			{ kind: 'empty' },
			{
				message: 'Get import failed: Terros sent an answer that is not valid JSON',
				description: NOT_JSON('an empty body'),
				httpCode: '200',
			},
		],
		[
			'an empty body with HTTP 500',
			{ kind: 'empty', status: 500 },
			{
				message: 'Get import failed: Terros is unavailable (HTTP 500)',
				description: UNAVAILABLE,
				httpCode: '500',
			},
		],
		[
			'truncated JSON with HTTP 200',
			{ kind: 'truncated' },
			{
				message: 'Get import failed: Terros sent an answer that is not valid JSON',
				description: NOT_JSON('"{"type":"success","log":{"importId":"Imp"'),
				httpCode: '200',
			},
		],
		[
			'truncated JSON with HTTP 400',
			{ kind: 'truncated', status: 400 },
			{
				message: 'Get import failed: Terros answered HTTP 400',
				description:
					'Unexpected answer: "{"type":"success","log":{"importId":"Imp". Check the Base URL of the Terros API credential.',
				httpCode: '400',
			},
		],
	])('%s', async (_, fault, expected) => {
		sim.inject({ route: '/import/get', ...fault, times: 0 });
		const result = await get();
		expect(expectWhole(result.error('Node'))).toEqual({ name: 'NodeApiError', ...expected });
	});

	it('under continueOnFail, the error item keeps the status and the import ID', async () => {
		sim.inject({ route: '/import/get', kind: 'html', status: 502, times: 0 });
		const result = await run(
			sim,
			[{ importId }],
			[terros('Node', 'get', {}, { onError: 'continueRegularOutput' })],
		);
		expect(result.output('Node')).toEqual([
			{
				json: {
					error: 'Get import failed: Terros is unavailable (HTTP 502)',
					description: UNAVAILABLE,
					httpCode: '502',
					importId,
				},
				pairedItem: { item: 0 },
			},
		]);
	});
});
