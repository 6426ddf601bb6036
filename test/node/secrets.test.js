'use strict';

/**
 * Secrets: the API key never shows up in outputs or errors and never goes to S3; signed URLs
 * (X-Amz-Signature) appear only in the uploadUrl / signedUrl fields that exist to carry them.
 */

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

/** A key the simulator does not know (HTTP 403), long and distinctive enough to scan for. */
const LEAKY_KEY = 'tk_live_9f8e7d6c5b4a3210-TERROS-SECRET-do-not-leak-42';
const GOOD_KEY = 'sim-key-acme';
const URL_FIELDS = new Set(['uploadUrl', 'signedUrl']);

/** Every error a run produced: per node, and the workflow's own. */
function errorsOf(result) {
	const errors = [];
	for (const tasks of Object.values(result.runData)) {
		for (const task of tasks) if (task.error) errors.push(task.error);
	}
	if (result.workflowError) errors.push(result.workflowError);
	return errors;
}

function errorTexts(error) {
	return [
		error.message,
		error.description,
		error.stack,
		JSON.stringify(error.context ?? {}),
		JSON.stringify(error.messages ?? []),
		JSON.stringify(error),
	].map((text) => String(text ?? ''));
}

/** The run, serialised, and each of its errors field by field, hold no trace of `secret`. */
function expectNoSecret(result, secret) {
	expect(result.serialised()).not.toContain(secret);
	for (const error of errorsOf(result)) {
		for (const text of errorTexts(error)) expect(text).not.toContain(secret);
	}
}

/**
 * Walks the whole serialised run; returns the paths of strings holding an S3 signature, split
 * into those in a URL field (allowed) and all others (leaks).
 */
function signatures(result) {
	const allowed = [];
	const leaks = [];
	const walk = (value, trail) => {
		if (typeof value === 'string') {
			if (value.includes('X-Amz-Signature=')) {
				(URL_FIELDS.has(trail[trail.length - 1]) ? allowed : leaks).push(trail.join('.'));
			}
		} else if (value && typeof value === 'object') {
			for (const [key, child] of Object.entries(value)) walk(child, [...trail, key]);
		}
	};
	walk(JSON.parse(result.serialised()), []);
	return { allowed, leaks };
}

function expectSignaturesOnlyInUrlFields(result) {
	const { allowed, leaks } = signatures(result);
	expect(leaks).toEqual([]);
	for (const error of errorsOf(result)) {
		for (const text of errorTexts(error)) {
			expect(text).not.toContain('X-Amz-Signature');
			expect(text).not.toContain('X-Amz-Credential');
		}
	}
	return allowed;
}

function expectSafe(result, key = GOOD_KEY) {
	expectNoSecret(result, key);
	return expectSignaturesOnlyInUrlFields(result);
}

beforeEach(() => {
	handle.sim.faults = [];
	handle.sim.requests = [];
});

afterEach(() => {
	// No request to S3, in any test, carried an Authorization header or a key.
	for (const request of handle.sim.requests.filter((r) => r.server === 's3')) {
		expect(request.headers.authorization).toBeUndefined();
		const headers = JSON.stringify(request.headers);
		expect(headers).not.toContain(GOOD_KEY);
		expect(headers).not.toContain(LEAKY_KEY);
	}
});

async function completedImport(sim) {
	const created = await createImportDirectly(sim, { entity: 'Account' });
	await uploadDirectly(created.url, SAMPLE_CSV);
	await settle(sim, created.importData.importId);
	return created.importData.importId;
}

describe('a refused key', () => {
	let importId;
	beforeAll(async () => {
		importId = await completedImport(handle.sim);
	});

	it.each([
		['get', {}, 'Get import failed: Terros refused the API key (HTTP 403)'],
		['getAll', { returnAll: true }, 'List imports failed: Terros refused the API key (HTTP 403)'],
		[
			'getErrors',
			{ output: 'rows' },
			'Get import errors failed: Terros refused the API key (HTTP 403)',
		],
		['cleanUp', {}, 'Get import failed: Terros refused the API key (HTTP 403)'],
		[
			'create',
			{ entity: 'Account' },
			'Create import failed: Terros refused the API key (HTTP 403)',
		],
	])('is not in the error or the run (%s)', async (operation, parameters, message) => {
		const { sim } = handle;
		const result = await run(sim, [{ importId }], [terros('Op', operation, parameters)], LEAKY_KEY);
		expect(result.status).toBe('error');
		expect(errorShape(result.error('Op'))).toEqual(
			expect.objectContaining({ name: 'NodeApiError', message, httpCode: '403' }),
		);
		// The key did go to Terros, so the scan below looks for something that was there.
		expect(sim.requests.map((r) => r.headers.authorization)).toEqual([`ApiKey ${LEAKY_KEY}`]);
		expectSafe(result, LEAKY_KEY);
	});

	it('is not in error items (continue on fail, both branches)', async () => {
		const { sim } = handle;
		for (const onError of ['continueRegularOutput', 'continueErrorOutput']) {
			const result = await run(
				sim,
				[{ importId }, { importId: 'Import:other' }],
				[terros('Get', 'get', {}, { onError })],
				LEAKY_KEY,
			);
			expect(result.status).toBe('success');
			const items = result.output('Get', onError === 'continueErrorOutput' ? 1 : 0);
			expect(items.map((item) => item.json.error)).toEqual([
				'Get import failed: Terros refused the API key (HTTP 403)',
				'Get import failed: Terros refused the API key (HTTP 403)',
			]);
			expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expectSafe(result, LEAKY_KEY);
		}
	});

	it('is not in the refusal of a plain-http base URL', async () => {
		const { runWorkflow } = require('../harness/engine');
		const { input } = require('./helpers');
		const result = await runWorkflow({
			nodes: [input([{ importId }]), terros('Get', 'get')],
			credentials: { apiKey: LEAKY_KEY, baseUrl: 'http://api.example.com' },
		});
		expect(result.error('Get').message).toBe(
			'The Terros base URL must start with https:// (got http://api.example.com)',
		);
		expectSafe(result, LEAKY_KEY);
	});
});

describe('failures with a good key', () => {
	it('an expired upload URL (Upload File)', async () => {
		const { sim } = handle;
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const created = await createImportDirectly(sim, { entity: 'Account' });
		const importId = created.importData.importId;
		sim.requests = [];
		const result = await run(
			sim,
			[{ importId, uploadUrl: created.url, binaryText: SAMPLE_CSV }],
			[terros('Upload', 'uploadFile')],
		);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL expired',
			description: `Upload URLs last one hour. Create a new import (this one, ${importId}, can be left as it is) and upload the file to its URL. S3 said: AccessDenied – Request has expired.`,
			httpCode: '403',
		});
		expect(sim.requests.map((r) => [r.server, r.method, r.status])).toEqual([['s3', 'PUT', 403]]);
		expectSafe(result);
	});

	it('an expired upload URL inside Import File, as an error item', async () => {
		const { sim } = handle;
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[
				terros(
					'Import',
					'importFile',
					{ entity: 'Account', pollInterval: 0.02 },
					{ onError: 'continueRegularOutput' },
				),
			],
		);
		const [item] = result.output('Import');
		expect(item.json.error).toMatch(/^Upload file failed: the upload URL expired \[import Import:/);
		expect(item.json.httpCode).toBe('403');
		expect(item.json.importId).toMatch(/^Import:/);
		expect(Object.keys(item.json).sort()).toEqual([
			'description',
			'error',
			'httpCode',
			'importId',
			'importStatus',
		]);
		expectSafe(result);
	});

	it('an error envelope from Terros', async () => {
		const { sim } = handle;
		sim.inject({
			route: '/import/get',
			kind: 'envelope',
			error: 'InvalidRequest',
			message: 'importId is malformed',
		});
		const result = await run(sim, [{ importId: 'Import:abc' }], [terros('Get', 'get')]);
		expect(errorShape(result.error('Get'))).toEqual(
			expect.objectContaining({
				message: 'Get import failed: importId is malformed',
				httpCode: '200',
			}),
		);
		expectSafe(result);
	});

	it('a NotAuthorized envelope for a read-only key', async () => {
		const { sim } = handle;
		const result = await run(
			sim,
			[{}],
			[terros('Create', 'create', { entity: 'Account' })],
			'sim-key-acme-readonly',
		);
		expect(result.error('Create').message).toBe(
			'Create import failed: This API key is not allowed to manage imports',
		);
		expectSafe(result, 'sim-key-acme-readonly');
	});

	it('a dropped connection to Terros', async () => {
		const { sim } = handle;
		sim.inject({ route: '/import/get', kind: 'drop', times: 0 });
		const result = await run(sim, [{ importId: 'Import:abc' }], [terros('Get', 'get')]);
		expect(result.error('Get').message).toBe(
			'Get import failed: the connection was closed before an answer came (POST /import/get)',
		);
		expectSafe(result);
	});

	it('a dropped upload names the URL without its signature', async () => {
		const { sim } = handle;
		const created = await createImportDirectly(sim, { entity: 'Account' });
		const importId = created.importData.importId;
		sim.inject({ route: 's3:put', kind: 'drop', times: 0 });
		sim.requests = [];
		const result = await run(
			sim,
			[{ importId, uploadUrl: created.url, binaryText: SAMPLE_CSV }],
			[terros('Upload', 'uploadFile')],
		);
		const url = new URL(created.url);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: `Upload file failed: the connection was closed before an answer came (PUT ${url.origin}${url.pathname})`,
			description:
				'Check the network between n8n and the storage service named in the message, then run the node again.',
			httpCode: null,
		});
		expect(sim.requests.filter((r) => r.server === 's3')).toHaveLength(3);
		expectSafe(result);
	});

	it('a dropped error-file download names the URL without its signature', async () => {
		const { sim } = handle;
		const importId = await completedImport(sim);
		sim.inject({ route: 's3:get', kind: 'drop', times: 0 });
		sim.requests = [];
		const result = await run(
			sim,
			[{ importId }],
			[terros('Errors', 'getErrors', { output: 'rows', errorOptions: { concurrency: 1 } })],
		);
		const error = result.error('Errors');
		expect(error.message).toBe(
			`Download error file failed: the connection was closed before an answer came (GET ${sim.s3Url}/terros-imports/imports/${encodeURIComponent(importId)}/errors/row-3.json)`,
		);
		expect(error.httpCode ?? null).toBeNull();
		expectSafe(result);
	});
});

describe('success paths', () => {
	it('Import File with failed rows, then Get Errors as records, rows and files', async () => {
		const { sim } = handle;
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[
				terros('Import', 'importFile', {
					entity: 'Account',
					pollInterval: 0.02,
					includeErrorRows: true,
				}),
				terros('Records', 'getErrors', { output: 'records' }),
			],
		);
		expect(result.status).toBe('success');
		expect(result.output('Import')[0].json.failedRows.map((row) => row.row)).toEqual([3, 4, 5]);
		const allowed = expectSafe(result);
		// The three signed URLs of the records, in their own field, and nowhere else.
		expect(allowed.filter((p) => p.endsWith('.signedUrl'))).toHaveLength(3);
		expect(allowed.every((p) => /\.(signedUrl|uploadUrl)$/.test(p))).toBe(true);

		const importId = result.output('Import')[0].json.importId;
		for (const output of ['rows', 'files']) {
			const more = await run(sim, [{ importId }], [terros('Errors', 'getErrors', { output })]);
			expect(more.output('Errors')).toHaveLength(3);
			expect(expectSafe(more)).toEqual([]);
		}
	});

	it('Create outputs its upload URL only in uploadUrl', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [terros('Create', 'create', { entity: 'Contact' })]);
		const [item] = result.output('Create');
		expect(item.json.uploadUrl).toContain('X-Amz-Signature=');
		const allowed = expectSafe(result);
		expect(allowed.length).toBeGreaterThanOrEqual(1);
		expect(allowed.every((p) => p.endsWith('.uploadUrl'))).toBe(true);
	});
});
