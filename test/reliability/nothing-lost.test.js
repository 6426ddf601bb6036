'use strict';

/**
 * Area 6, nothing lost: when Upload, Wait or the error downloads fail inside Import File, the
 * error (and the error item under continueOnFail) carries the import that was created and its
 * last known status. With continueOnFail every failure is an item paired to its input, and the
 * other items go on.
 */

const {
	SAMPLE_CSV,
	errorShape,
	importWithErrors,
	newImport,
	run,
	terros,
	uploadText,
	useSimulator,
} = require('./support');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => sim.reset());

const FAST_WAIT = { pollInterval: 0.02, maxPollInterval: 0.05 };
const lastImport = () => [...sim.imports.values()].pop();
const NO_NAME = 'firstName,email\r\nAda,ada@example.com\r\n';

/** Scenarios where Import File fails after it created the import. */
const AFTER_CREATION = [
	{
		title: 'the upload keeps failing (S3 500)',
		faults: [{ route: 's3:put', kind: 'serverError', times: 0 }],
		message: (id) =>
			`Upload file failed: the storage service had an internal error [import ${id} was created; last status New]`,
		status: 'New',
		httpCode: '500',
	},
	{
		title: 'the upload’s connection keeps dropping',
		faults: [{ route: 's3:put', kind: 'drop', times: 0 }],
		message: (id) =>
			`Upload file failed: the connection was closed before an answer came (PUT ${sim.s3Url}/terros-imports/imports/${encodeURIComponent(id)}/upload.csv) [import ${id} was created; last status New]`,
		status: 'New',
	},
	{
		title: 'the upload URL expired',
		faults: [{ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 }],
		message: (id) =>
			`Upload file failed: the upload URL expired [import ${id} was created; last status New]`,
		status: 'New',
		httpCode: '403',
	},
	{
		title: 'the status checks after the upload keep failing',
		faults: [{ route: '/import/get', kind: 'unavailable', times: 0 }],
		message: (id) =>
			`Get import failed: Terros is unavailable (HTTP 503) [import ${id} was created; last status Uploaded]`,
		status: 'Uploaded',
		httpCode: '503',
	},
	{
		title: 'a status check is refused mid-wait',
		faults: [
			{ route: '/import/get', kind: 'envelope', error: 'NotAuthorized', message: 'No', skip: 1 },
		],
		parameters: { pollInterval: 0.001, maxPollInterval: 0.001 },
		message: (id) =>
			new RegExp(
				`^Get import failed: No \\[import ${id} was created; last status (Uploaded|Queued)\\]$`,
			),
		status: /^(Uploaded|Queued)$/,
		httpCode: '200',
	},
	{
		title: 'the wait times out',
		faults: [{ route: '/import/add', kind: 'stuck', status: 'Processing' }],
		parameters: { timeout: 0.005 },
		message: (id) => new RegExp(`^Import ${id} was still Processing after [01] s$`),
		status: 'Processing',
	},
	{
		title: 'Terros fails the import',
		csv: NO_NAME,
		message: (id) => `Import ${id} failed: Missing required column(s) for Account: name`,
		status: 'Failed',
	},
	{
		title: 'the error records cannot be read',
		faults: [{ route: '/import/errors', kind: 'serverError', times: 0 }],
		parameters: { includeErrorRows: true },
		message: (id) =>
			`Get import errors failed: Terros is unavailable (HTTP 500) [import ${id} was created; last status Completed]`,
		status: 'Completed',
		httpCode: '500',
	},
	{
		title: 'the error files cannot be downloaded',
		faults: [{ route: 's3:get', kind: 'serverError', times: 0 }],
		parameters: { includeErrorRows: true },
		message: (id) =>
			`Download error file failed: the storage service had an internal error [import ${id} was created; last status Completed]`,
		status: 'Completed',
		httpCode: '500',
	},
];

function importFile(scenario, extra = {}) {
	for (const fault of scenario.faults ?? []) sim.inject(fault);
	return run(
		sim,
		[{ binaryText: scenario.csv ?? SAMPLE_CSV }],
		[terros('Import', 'importFile', { ...FAST_WAIT, ...scenario.parameters }, extra)],
	);
}

const matches = (expected, actual) =>
	expected instanceof RegExp ? expect(actual).toMatch(expected) : expect(actual).toBe(expected);

describe('Import File: a failure after the import was created names it and its last status', () => {
	it.each(AFTER_CREATION.map((s) => [s.title, s]))('%s: in the error', async (_, scenario) => {
		const result = await importFile(scenario);
		const { importId } = lastImport();
		expect(sim.imports.size).toBe(1);
		const error = result.error('Import');
		matches(scenario.message(importId), error.message);
		expect(error.context.importId).toBe(importId);
		matches(scenario.status, error.context.importStatus);
		expect(errorShape(error).httpCode).toBe(scenario.httpCode ?? null);
	});

	it.each(AFTER_CREATION.map((s) => [s.title, s]))(
		'%s: in the error item (continueOnFail)',
		async (_, scenario) => {
			const result = await importFile(scenario, { onError: 'continueRegularOutput' });
			const { importId } = lastImport();
			const [item, ...rest] = result.output('Import');
			expect(rest).toEqual([]);
			expect(item.pairedItem).toEqual({ item: 0 });
			matches(scenario.message(importId), item.json.error);
			expect(item.json.importId).toBe(importId);
			matches(scenario.status, item.json.importStatus);
			expect(typeof item.json.description).toBe('string');
			if (scenario.httpCode) expect(item.json.httpCode).toBe(scenario.httpCode);
		},
	);
});

describe('continueOnFail: each failure is an item paired to its input; the others go on', () => {
	it('Import File, five items: three kinds of failure between two successes', async () => {
		// Item 1's upload fails 3 times (the fault lets item 0's PUT through); item 2's file lacks
		// a required column (Terros fails it); item 3's file is empty (refused before creation).
		sim.inject({ route: 's3:put', kind: 'serverError', skip: 1, times: 3 });
		const result = await run(
			sim,
			[
				{ binaryText: SAMPLE_CSV, tag: 'a' },
				{ binaryText: SAMPLE_CSV, tag: 'b' },
				{ binaryText: NO_NAME, tag: 'c' },
				{ binaryText: '', tag: 'd' },
				{ binaryText: SAMPLE_CSV, tag: 'e' },
			],
			[terros('Import', 'importFile', FAST_WAIT, { onError: 'continueRegularOutput' })],
		);
		expect(result.status).toBe('success');
		const items = result.output('Import');
		expect(items.map((i) => i.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		const imports = [...sim.imports.values()];
		expect(imports).toHaveLength(4);
		const [a, b, c, e] = imports.map((r) => r.importId);
		expect(items[0].json).toMatchObject({ importId: a, importStatus: 'Completed', errors: 3 });
		expect(items[1].json).toMatchObject({
			error: `Upload file failed: the storage service had an internal error [import ${b} was created; last status New]`,
			importId: b,
			importStatus: 'New',
			httpCode: '500',
		});
		expect(items[2].json).toMatchObject({
			error: `Import ${c} failed: Missing required column(s) for Account: name`,
			importId: c,
			importStatus: 'Failed',
		});
		expect(items[3].json).toEqual({
			error: 'The file is empty (file "upload.csv")',
			description: 'Check the node that produced the file: it wrote no bytes.',
		});
		expect(items[4].json).toMatchObject({ importId: e, importStatus: 'Completed', errors: 3 });
	});

	it('Import File with the error output: successes on the main output, failures on the error output', async () => {
		sim.inject({ route: 's3:put', kind: 'serverError', skip: 1, times: 3 });
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }, { binaryText: SAMPLE_CSV }, { binaryText: SAMPLE_CSV }],
			[terros('Import', 'importFile', FAST_WAIT, { onError: 'continueErrorOutput' })],
		);
		const ok = result.output('Import', 0);
		const failed = result.output('Import', 1);
		expect(ok.map((i) => [i.pairedItem, i.json.importStatus])).toEqual([
			[{ item: 0 }, 'Completed'],
			[{ item: 2 }, 'Completed'],
		]);
		const b = [...sim.imports.values()][1].importId;
		expect(failed).toHaveLength(1);
		expect(failed[0].pairedItem).toEqual({ item: 1 });
		expect(failed[0].json).toMatchObject({
			error: `Upload file failed: the storage service had an internal error [import ${b} was created; last status New]`,
			details: { importId: b, importStatus: 'New', httpCode: '500' },
		});
	});

	it('Wait for Completion, items waited side by side: a failed import and a bad ID among successes', async () => {
		const done = await importWithErrors(sim);
		const failed = await newImport(sim);
		await uploadText(failed.uploadUrl, NO_NAME);
		const result = await run(
			sim,
			[{ importId: done }, { importId: 'nope' }, { importId: failed.importId }, { importId: done }],
			[terros('Wait', 'waitForCompletion', FAST_WAIT, { onError: 'continueRegularOutput' })],
		);
		const items = result.output('Wait');
		expect(items.map((i) => i.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
		expect(items[0].json).toMatchObject({ importId: done, importStatus: 'Completed' });
		expect(items[1].json.error).toBe('"nope" is not an import ID');
		expect(items[2].json).toMatchObject({
			error: `Import ${failed.importId} failed: Missing required column(s) for Account: name`,
			importId: failed.importId,
			importStatus: 'Failed',
		});
		expect(items[3].json).toMatchObject({ importId: done, importStatus: 'Completed' });
	});

	it('Upload File: an expired URL between two good uploads', async () => {
		const first = await newImport(sim);
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const expired = await newImport(sim);
		const last = await newImport(sim);
		const result = await run(
			sim,
			[first, expired, last].map((t) => ({ ...t, binaryText: SAMPLE_CSV })),
			[terros('Upload', 'uploadFile', {}, { onError: 'continueRegularOutput' })],
		);
		const items = result.output('Upload');
		expect(items.map((i) => [i.pairedItem, i.json.uploaded ?? i.json.error])).toEqual([
			[{ item: 0 }, true],
			[{ item: 1 }, 'Upload file failed: the upload URL expired'],
			[{ item: 2 }, true],
		]);
		expect(items[1].json).toMatchObject({ importId: expired.importId, httpCode: '403' });
	});

	it('Get Errors: an unknown import between two with errors', async () => {
		const importId = await importWithErrors(sim);
		const result = await run(
			sim,
			[{ importId }, { importId: 'Import:gone' }, { importId }],
			[terros('Errors', 'getErrors', { output: 'rows' }, { onError: 'continueRegularOutput' })],
		);
		const items = result.output('Errors');
		expect(items.map((i) => [i.pairedItem.item, i.json.row ?? i.json.error])).toEqual([
			[0, 3],
			[0, 4],
			[0, 5],
			[1, 'Get import errors failed: Import not found: Import:gone'],
			[2, 3],
			[2, 4],
			[2, 5],
		]);
		expect(items[3].json.importId).toBe('Import:gone');
	});
});
