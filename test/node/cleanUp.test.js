'use strict';

/** Clean Up: removes a finished import's temporary data; refuses running imports unless forced. */

const fs = require('node:fs');
const path = require('node:path');

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

const REFUSAL_DESCRIPTION =
	'Cleaning up a running import can break it. Put a Wait for Completion step before this one, or turn on "Force".';
const INVALID_REQUEST =
	'Terros error InvalidRequest. Terros rejected the request as sent. Check the parameters named in the message.';

function cleanNode(parameters = {}, extra = {}) {
	return terros('Clean', 'cleanUp', parameters, extra);
}

function calls(sim, route) {
	return sim.requests.filter((r) => r.path === route);
}

async function importCsv(sim, csv) {
	const created = await createImportDirectly(sim, { entity: 'Account' });
	await uploadDirectly(created.url, csv);
	const log = await settle(sim, created.importData.importId);
	return { importId: created.importData.importId, log };
}

/** An uploaded import that stays in `status` for good. */
async function stuckImport(sim, status) {
	sim.inject({ route: '/import/add', kind: 'stuck', status });
	const created = await createImportDirectly(sim, { entity: 'Account' });
	const importId = created.importData.importId;
	await uploadDirectly(created.url, SAMPLE_CSV);
	for (let i = 0; i < 200 && sim.imports.get(importId).importStatus !== status; i++) {
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	expect(sim.imports.get(importId).importStatus).toBe(status);
	return importId;
}

beforeEach(() => {
	handle.sim.faults = [];
	handle.sim.requests = [];
});

describe('finished imports', () => {
	it('cleans up a Completed import; its errors are gone afterwards', async () => {
		const { sim } = handle;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		const errorDir = path.join(sim.dataDir, encodeURIComponent(importId), 'errors');
		expect(fs.readdirSync(errorDir).sort()).toEqual(['row-3.json', 'row-4.json', 'row-5.json']);
		sim.requests = [];
		const result = await run(sim, [{ importId }], [cleanNode()]);
		expect(result.status).toBe('success');
		expect(result.output('Clean')).toEqual([
			{ json: { importId, importStatus: 'Completed', cleanedUp: true }, pairedItem: { item: 0 } },
		]);
		expect(sim.requests.map((r) => r.path)).toEqual(['/import/get', '/import/cleanup']);
		expect(sim.imports.get(importId).cleanedUp).toBe(true);
		expect(fs.existsSync(errorDir)).toBe(false);

		const errors = await run(
			sim,
			[{ importId }],
			[terros('Errors', 'getErrors', { output: 'rows' })],
		);
		expect(errors.output('Errors')).toEqual([
			{ json: { importId, errorCount: 0 }, pairedItem: { item: 0 } },
		]);
	});

	it('cleans up a Failed import', async () => {
		const { sim } = handle;
		const { importId, log } = await importCsv(sim, 'email\r\na@b.example\r\n');
		expect(log.importStatus).toBe('Failed');
		const result = await run(sim, [{ importId }], [cleanNode()]);
		expect(result.output('Clean')).toEqual([
			{ json: { importId, importStatus: 'Failed', cleanedUp: true }, pairedItem: { item: 0 } },
		]);
		expect(calls(sim, '/import/cleanup')).toHaveLength(1);
	});

	it('may clean up the same import twice', async () => {
		const { sim } = handle;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		const first = await run(sim, [{ importId }], [cleanNode()]);
		const second = await run(sim, [{ importId }], [cleanNode()]);
		expect(first.output('Clean')[0].json).toEqual(second.output('Clean')[0].json);
		expect(calls(sim, '/import/cleanup').map((r) => r.status)).toEqual([200, 200]);
	});

	it('cleans up every incoming item, pairing each output', async () => {
		const { sim } = handle;
		const one = await importCsv(sim, SAMPLE_CSV);
		const two = await importCsv(sim, SAMPLE_CSV);
		const result = await run(
			sim,
			[{ importId: one.importId }, { importId: two.importId }],
			[cleanNode()],
		);
		expect(result.output('Clean')).toEqual([
			{
				json: { importId: one.importId, importStatus: 'Completed', cleanedUp: true },
				pairedItem: { item: 0 },
			},
			{
				json: { importId: two.importId, importStatus: 'Completed', cleanedUp: true },
				pairedItem: { item: 1 },
			},
		]);
	});

	it('retries a transient failure of the clean-up request', async () => {
		const { sim } = handle;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		sim.requests = [];
		sim.inject({ route: '/import/cleanup', kind: 'serverError', times: 1 });
		const result = await run(sim, [{ importId }], [cleanNode()]);
		expect(result.output('Clean')[0].json.cleanedUp).toBe(true);
		expect(calls(sim, '/import/cleanup').map((r) => r.status)).toEqual([500, 200]);
	});
});

describe('imports that are not finished', () => {
	it('refuses a Processing import without asking Terros to clean it up', async () => {
		const { sim } = handle;
		const importId = await stuckImport(sim, 'Processing');
		sim.requests = [];
		const result = await run(sim, [{ importId }], [cleanNode()]);
		expect(result.status).toBe('error');
		const error = result.error('Clean');
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} is Processing; clean up only runs on Completed or Failed imports`,
			description: REFUSAL_DESCRIPTION,
			httpCode: null,
		});
		expect(error.context).toEqual(
			expect.objectContaining({ importId, importStatus: 'Processing', itemIndex: 0 }),
		);
		expect(sim.requests.map((r) => r.path)).toEqual(['/import/get']);
		expect(sim.imports.get(importId).cleanedUp).toBe(false);
	});

	it('with Force, asks Terros, whose InvalidRequest refusal is reported', async () => {
		const { sim } = handle;
		const importId = await stuckImport(sim, 'Processing');
		sim.requests = [];
		const result = await run(sim, [{ importId }], [cleanNode({ force: true })]);
		expect(result.status).toBe('error');
		const error = result.error('Clean');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: `Clean up import failed: Import ${importId} is still in progress (Processing); wait until it is Completed or Failed`,
			description: INVALID_REQUEST,
			httpCode: '200',
		});
		expect(error.context).toEqual(
			expect.objectContaining({ importId, terrosError: 'InvalidRequest', itemIndex: 0 }),
		);
		// InvalidRequest is not retried.
		expect(sim.requests.map((r) => r.path)).toEqual(['/import/get', '/import/cleanup']);
	});

	it('refuses a New import (never uploaded) without Force', async () => {
		const { sim } = handle;
		const importId = (await createImportDirectly(sim, { entity: 'Contact' })).importData.importId;
		sim.requests = [];
		const result = await run(sim, [{ importId }], [cleanNode()]);
		expect(errorShape(result.error('Clean'))).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} is New; clean up only runs on Completed or Failed imports`,
			description: REFUSAL_DESCRIPTION,
			httpCode: null,
		});
		expect(calls(sim, '/import/cleanup')).toHaveLength(0);

		// With Force, Terros accepts it: a New import is not running.
		const forced = await run(sim, [{ importId }], [cleanNode({ force: true })]);
		expect(forced.output('Clean')).toEqual([
			{ json: { importId, importStatus: 'New', cleanedUp: true }, pairedItem: { item: 0 } },
		]);
		expect(calls(sim, '/import/cleanup')).toHaveLength(1);
	});

	it('turns a refusal into an error item naming the import and status (continue on fail)', async () => {
		const { sim } = handle;
		const importId = await stuckImport(sim, 'Queued');
		const done = await importCsv(sim, SAMPLE_CSV);
		sim.requests = [];
		const result = await run(
			sim,
			[{ importId }, { importId: done.importId }],
			[cleanNode({}, { onError: 'continueRegularOutput' })],
		);
		expect(result.status).toBe('success');
		expect(result.output('Clean')).toEqual([
			{
				json: {
					error: `Import ${importId} is Queued; clean up only runs on Completed or Failed imports`,
					description: REFUSAL_DESCRIPTION,
					importId,
					importStatus: 'Queued',
				},
				pairedItem: { item: 0 },
			},
			{
				json: { importId: done.importId, importStatus: 'Completed', cleanedUp: true },
				pairedItem: { item: 1 },
			},
		]);
		expect(calls(sim, '/import/cleanup')).toHaveLength(1);
	});
});

describe('refusals by Terros', () => {
	it('reports a read-only key as NotAuthorized', async () => {
		const { sim } = handle;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		sim.requests = [];
		const result = await run(sim, [{ importId }], [cleanNode()], 'sim-key-acme-readonly');
		expect(result.status).toBe('error');
		const error = result.error('Clean');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Clean up import failed: This API key is not allowed to manage imports',
			description:
				'Terros error NotAuthorized. The API key is valid but may not do this. Ask a Terros admin to check the key’s permissions under Company Settings → API Keys.',
			httpCode: '200',
		});
		expect(error.context).toEqual(
			expect.objectContaining({ importId, terrosError: 'NotAuthorized' }),
		);
		expect(sim.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
			['/import/get', 'ApiKey sim-key-acme-readonly'],
			['/import/cleanup', 'ApiKey sim-key-acme-readonly'],
		]);
		expect(sim.imports.get(importId).cleanedUp).toBe(false);
	});

	it('reports an unknown import from the status check, before any clean-up request', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ importId: 'Import:unknown42' }], [cleanNode({ force: true })]);
		expect(errorShape(result.error('Clean'))).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Import not found: Import:unknown42',
			description: INVALID_REQUEST,
			httpCode: '200',
		});
		expect(sim.requests.map((r) => r.path)).toEqual(['/import/get']);
	});

	it('refuses an empty import ID before any request', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [cleanNode()]);
		expect(errorShape(result.error('Clean'))).toEqual({
			name: 'NodeOperationError',
			message: 'The import ID is empty',
			description:
				'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
			httpCode: null,
		});
		expect(sim.requests).toHaveLength(0);
	});
});
