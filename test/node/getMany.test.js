'use strict';

/** Get Many: the company's imports, newest first, with Return All / Limit and filters. */

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

const { findImportList } = require(
	path.resolve(__dirname, '../../dist/nodes/TerrosImport/actions/import/getMany.operation.js'),
);

const handle = useSimulator();

// Created in this order, so newest first is D, C, B, A.
const ids = {};
let completedLog;
let globexId;

function listNode(parameters = {}, extra = {}) {
	return terros('List', 'getAll', parameters, extra);
}

function listCalls(sim) {
	return sim.requests.filter((r) => r.path === '/import/list');
}

function outputIds(result) {
	return result.output('List').map((item) => item.json.importId);
}

beforeAll(async () => {
	const { sim } = handle;
	const a = await createImportDirectly(sim, { entity: 'Account', name: 'Accounts A' });
	ids.A = a.importData.importId;
	await uploadDirectly(a.url, SAMPLE_CSV);
	completedLog = await settle(sim, ids.A);
	ids.B = (
		await createImportDirectly(sim, { entity: 'Contact', name: 'Contacts B' })
	).importData.importId;
	ids.C = (await createImportDirectly(sim, { entity: 'Account' })).importData.importId;
	ids.D = (
		await createImportDirectly(sim, { entity: 'Task', name: 'Tasks D' })
	).importData.importId;
	globexId = (await createImportDirectly(sim, { entity: 'Account' }, 'sim-key-globex')).importData
		.importId;
});

beforeEach(() => {
	handle.sim.faults = [];
	handle.sim.requests = [];
});

describe('listing', () => {
	it('returns every import of the company, newest first, one item each', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [listNode({ returnAll: true })]);
		expect(result.status).toBe('success');
		expect(outputIds(result)).toEqual([ids.D, ids.C, ids.B, ids.A]);
		const output = result.output('List');
		expect(output.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 0 },
			{ item: 0 },
			{ item: 0 },
		]);
		expect(output[3].json).toEqual({
			importId: ids.A,
			entity: 'Account',
			name: 'Accounts A',
			importStatus: 'Completed',
			successes: 2,
			errors: 3,
			totalMessages: 5,
			completedAt: completedLog.completedAt,
			createdAt: expect.any(Number),
		});
		expect(output[0].json).toEqual({
			importId: ids.D,
			entity: 'Task',
			name: 'Tasks D',
			importStatus: 'New',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			completedAt: null,
			createdAt: expect.any(Number),
		});
		const created = output.map((item) => item.json.createdAt);
		expect([...created].sort((x, y) => y - x)).toEqual(created);
		expect(listCalls(sim)).toHaveLength(1);
		expect(sim.requests).toHaveLength(1);
	});

	it('never shows another company’s imports', async () => {
		const { sim } = handle;
		const acme = await run(sim, [{}], [listNode({ returnAll: true })]);
		expect(outputIds(acme)).not.toContain(globexId);
		const globex = await run(sim, [{}], [listNode({ returnAll: true })], 'sim-key-globex');
		expect(outputIds(globex)).toEqual([globexId]);
	});

	it('stops at Limit when Return All is off', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [listNode({ returnAll: false, limit: 2 })]);
		expect(outputIds(result)).toEqual([ids.D, ids.C]);
		expect(listCalls(sim)).toHaveLength(1);
	});

	it('uses a limit of 50 by default, which holds all four', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [listNode()]);
		expect(outputIds(result)).toEqual([ids.D, ids.C, ids.B, ids.A]);
	});

	it('lists once per input item, pairing each import to its item', async () => {
		const { sim } = handle;
		const result = await run(sim, [{ n: 1 }, { n: 2 }], [listNode({ limit: 2 })]);
		expect(result.output('List').map((item) => [item.json.importId, item.pairedItem.item])).toEqual(
			[
				[ids.D, 0],
				[ids.C, 0],
				[ids.D, 1],
				[ids.C, 1],
			],
		);
		expect(listCalls(sim)).toHaveLength(2);
	});
});

describe('filters', () => {
	it('by entity', async () => {
		const { sim } = handle;
		const result = await run(
			sim,
			[{}],
			[listNode({ returnAll: true, filters: { entity: 'Account' } })],
		);
		expect(outputIds(result)).toEqual([ids.C, ids.A]);
	});

	it('by status', async () => {
		const { sim } = handle;
		const completed = await run(
			sim,
			[{}],
			[listNode({ returnAll: true, filters: { importStatus: 'Completed' } })],
		);
		expect(outputIds(completed)).toEqual([ids.A]);
		const fresh = await run(
			sim,
			[{}],
			[listNode({ returnAll: true, filters: { importStatus: 'New' } })],
		);
		expect(outputIds(fresh)).toEqual([ids.D, ids.C, ids.B]);
	});

	it('by entity and status together, with the limit applied after filtering', async () => {
		const { sim } = handle;
		const both = await run(
			sim,
			[{}],
			[listNode({ returnAll: true, filters: { entity: 'Account', importStatus: 'New' } })],
		);
		expect(outputIds(both)).toEqual([ids.C]);
		const limited = await run(
			sim,
			[{}],
			[listNode({ returnAll: false, limit: 1, filters: { entity: 'Account' } })],
		);
		expect(outputIds(limited)).toEqual([ids.C]);
	});

	it('outputs nothing when no import matches', async () => {
		const { sim } = handle;
		const result = await run(
			sim,
			[{}],
			[listNode({ returnAll: true, filters: { importStatus: 'Failed' } })],
		);
		expect(result.status).toBe('success');
		expect(result.output('List')).toEqual([]);
	});
});

describe('errors', () => {
	it('reports a refused API key with the whole error shape', async () => {
		const { sim } = handle;
		const result = await run(sim, [{}], [listNode({ returnAll: true })], 'wrong-key');
		expect(result.status).toBe('error');
		const error = result.error('List');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'List imports failed: Terros refused the API key (HTTP 403)',
			description:
				'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.',
			httpCode: '403',
		});
		expect(error.context.itemIndex).toBe(0);
		expect(error.context.importId).toBeUndefined();
		expect(listCalls(sim)).toHaveLength(1);
	});

	it('retries a transient 503 on the list', async () => {
		const { sim } = handle;
		sim.inject({ route: '/import/list', kind: 'unavailable', times: 2 });
		const result = await run(sim, [{}], [listNode({ returnAll: true })]);
		expect(outputIds(result)).toEqual([ids.D, ids.C, ids.B, ids.A]);
		expect(listCalls(sim).map((c) => c.status)).toEqual([503, 503, 200]);
	});
});

describe('findImportList (other answer shapes)', () => {
	const a = { importId: 'Import:a' };
	const b = { importId: 'Import:b' };

	it('reads { imports: [...] }', () => {
		expect(findImportList({ type: 'success', imports: [a, b] })).toEqual([a, b]);
	});

	it('reads { items: [...] }', () => {
		expect(findImportList({ type: 'success', items: [b] })).toEqual([b]);
	});

	it('reads { data: { imports: [...] } }', () => {
		expect(findImportList({ type: 'success', data: { total: 1, imports: [a] } })).toEqual([a]);
	});

	it('reads { data: [...] }', () => {
		expect(findImportList({ data: [a] })).toEqual([a]);
	});

	it('reads { logs: [...] }', () => {
		expect(findImportList({ type: 'success', logs: [a, b] })).toEqual([a, b]);
	});

	it('reads an array under a key it does not know', () => {
		expect(findImportList({ type: 'success', count: 2, importLogs: [b, a] })).toEqual([b, a]);
	});

	it('prefers the known keys, in order, over other arrays', () => {
		expect(findImportList({ warnings: ['x'], results: [b], imports: [a] })).toEqual([a]);
	});

	it('returns an empty list when the answer holds no array', () => {
		expect(findImportList({ type: 'success' })).toEqual([]);
		expect(findImportList({ type: 'success', data: { total: 0 }, count: 0 })).toEqual([]);
		expect(findImportList({})).toEqual([]);
	});
});
