'use strict';

const { SAMPLE_CSV, errorShape, run, terros, useSimulator } = require('./helpers');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => sim.reset());

const SAMPLE_BYTES = Buffer.byteLength(SAMPLE_CSV, 'utf8');
const FAILED_DESCRIPTION =
	'Terros could not process the file. Fix what the reason names and import the file again; turn on "Failed Import as Item" to handle failures in the workflow instead.';

const count = (predicate) => sim.requests.filter(predicate).length;
const adds = () => count((r) => r.path === '/import/add');
const puts = () => sim.requests.filter((r) => r.server === 's3' && r.method === 'PUT');
const onlyImport = () => {
	expect(sim.imports.size).toBe(1);
	return [...sim.imports.keys()][0];
};

/** The failed rows of SAMPLE_CSV, as the simulator describes them. */
const SAMPLE_FAILED_ROWS = [
	{
		row: 3,
		reason: '"bad-email" is not a valid email address',
		details: {
			row: 3,
			line: 4,
			message: '"bad-email" is not a valid email address',
			errors: [{ column: 'email', message: '"bad-email" is not a valid email address' }],
		},
	},
	{
		row: 4,
		reason: 'name is required',
		details: {
			row: 4,
			line: 6,
			message: 'name is required',
			errors: [{ column: 'name', message: 'name is required' }],
		},
	},
	{
		row: 5,
		reason: '"not-a-phone" is not a valid phone number',
		details: {
			row: 5,
			line: 7,
			message: '"not-a-phone" is not a valid phone number',
			errors: [{ column: 'phone', message: '"not-a-phone" is not a valid phone number' }],
		},
	},
];

function importFile(items, parameters = {}, extra = {}) {
	return run(sim, items, [
		terros(
			'Import',
			'importFile',
			{
				entity: 'Account',
				name: 'Nightly',
				pollInterval: 0.02,
				maxPollInterval: 0.1,
				...parameters,
			},
			extra,
		),
	]);
}

describe('Import File: success', () => {
	it('creates, uploads, waits and lists the failed rows with their reasons', async () => {
		const result = await importFile([{ binaryText: SAMPLE_CSV }], { includeErrorRows: true });
		expect(result.status).toBe('success');
		const items = result.output('Import');
		expect(items).toHaveLength(1);
		expect(items[0].pairedItem).toEqual({ item: 0 });
		const importId = onlyImport();
		const { completedAt, waitedSeconds, polls, ...json } = items[0].json;
		expect(json).toEqual({
			importId,
			entity: 'Account',
			name: 'Nightly',
			bytes: SAMPLE_BYTES,
			uploadAttempts: 1,
			importStatus: 'Completed',
			successes: 2,
			errors: 3,
			totalMessages: 5,
			timedOut: false,
			failedRows: SAMPLE_FAILED_ROWS,
		});
		expect(completedAt).toBe(sim.imports.get(importId).completedAt);
		expect(polls).toBe(count((r) => r.path === '/import/get'));
		expect(waitedSeconds).toBeLessThan(2);
		// One import, one upload, one error listing and one download per failed row.
		const calls = sim.requests
			.filter((r) => r.path !== '/import/get')
			.map((r) => `${r.server} ${r.method} ${r.path.split('/').pop()}`);
		expect(calls.slice(0, 3)).toEqual(['api POST add', 's3 PUT upload.csv', 'api POST errors']);
		expect(calls.slice(3).sort()).toEqual([
			's3 GET row-3.json',
			's3 GET row-4.json',
			's3 GET row-5.json',
		]);
		expect(sim.imports.get(importId).options).toEqual({ entity: 'Account', name: 'Nightly' });
	});

	it('does not download error rows unless asked', async () => {
		const result = await importFile([{ binaryText: SAMPLE_CSV }]);
		const { json } = result.output('Import')[0];
		expect(json).toMatchObject({ importStatus: 'Completed', successes: 2, errors: 3 });
		expect(json.failedRows).toBeUndefined();
		expect(count((r) => r.path === '/import/errors' || r.method === 'GET')).toBe(0);
	});

	it('applies the column mapping, checked against the header', async () => {
		const csv = 'Company,E-mail\r\nAcme,ops@acme.example\r\nGlobex,nope\r\n';
		const result = await importFile([{ binaryText: csv }], {
			includeErrorRows: true,
			options: {
				columnMappingJson: '{"Company": "name"}',
				columnMapping: { mappings: [{ csvColumn: 'E-mail', terrosHeader: 'email' }] },
			},
		});
		expect(result.status).toBe('success');
		const { json } = result.output('Import')[0];
		expect(json).toMatchObject({ importStatus: 'Completed', successes: 1, errors: 1 });
		expect(json.failedRows.map((r) => [r.row, r.reason])).toEqual([
			[2, '"nope" is not a valid email address'],
		]);
		expect(sim.imports.get(json.importId).options.columnMapping).toEqual({
			Company: 'name',
			'E-mail': 'email',
		});
	});

	it('returns after the upload with importStatus Uploaded when not waiting', async () => {
		const result = await importFile([{ binaryText: SAMPLE_CSV }], {
			waitForCompletion: false,
			includeErrorRows: true,
		});
		expect(result.status).toBe('success');
		const importId = onlyImport();
		expect(result.output('Import')[0].json).toEqual({
			importId,
			entity: 'Account',
			name: 'Nightly',
			bytes: SAMPLE_BYTES,
			uploadAttempts: 1,
			importStatus: 'Uploaded',
		});
		expect(sim.requests.map((r) => `${r.server} ${r.method}`)).toEqual(['api POST', 's3 PUT']);
		expect(sim.imports.get(importId).uploads).toBe(1);
	});

	it('imports one file per item, each paired to its item', async () => {
		const result = await importFile(
			[{ binaryText: SAMPLE_CSV }, { binaryInline: 'name\r\nSolo Ltd\r\n' }],
			{},
		);
		const items = result.output('Import');
		expect(items.map((i) => [i.json.successes, i.json.errors, i.pairedItem])).toEqual([
			[2, 3, { item: 0 }],
			[1, 0, { item: 1 }],
		]);
		expect(sim.imports.size).toBe(2);
	});
});

describe('Import File: checks before the import is created', () => {
	it.each([
		[
			'an empty file',
			{ binaryText: '' },
			'The file is empty (file "upload.csv")',
			'Check the node that produced the file: it wrote no bytes.',
		],
		[
			'a header-only file',
			{ binaryText: 'name,email\r\n' },
			'The file has a header but no data rows (file "upload.csv")',
			'There is nothing to import. Check the export that produced the file.',
		],
		[
			'a semicolon file',
			{ binaryText: 'name;email\nAcme;a@b.co\n' },
			'The file\'s columns are separated by semicolons; Terros reads comma-separated files (file "upload.csv")',
			'Export the file again with commas as the delimiter (in Excel: "CSV UTF-8 (Comma delimited)").',
		],
		[
			'an item without a file',
			{},
			'The item has no binary data',
			'Connect a node that outputs the CSV file as binary data (e.g. Read/Write Files from Disk, HTTP Request with the response as a file, or Convert to File).',
		],
	])('refuses %s with no import created', async (_, item, message, description) => {
		const result = await importFile([item]);
		expect(result.status).toBe('error');
		expect(errorShape(result.error('Import'))).toEqual({
			name: 'NodeOperationError',
			message,
			description,
			httpCode: null,
		});
		expect(adds()).toBe(0);
		expect(sim.requests).toEqual([]);
	});

	it('refuses a column mapping naming a column the header lacks, with no import created', async () => {
		const result = await importFile([{ binaryText: SAMPLE_CSV }], {
			options: { columnMappingJson: '{"Company": "name", "phone": "phone", "Mail": "email"}' },
		});
		expect(errorShape(result.error('Import'))).toEqual({
			name: 'NodeOperationError',
			message: 'Column Mapping names "Company", "Mail", not in the file’s header',
			description:
				'The header has: name, email, phone. Fix the mapping’s CSV column names (they are case-sensitive).',
			httpCode: null,
		});
		expect(adds()).toBe(0);
	});

	it('refuses bad wait settings with no import created', async () => {
		const result = await importFile([{ binaryText: SAMPLE_CSV }], { timeout: -1 });
		expect(errorShape(result.error('Import'))).toEqual({
			name: 'NodeOperationError',
			message: '"Timeout (Minutes)" must be a number above zero',
			description: 'It is -1.',
			httpCode: null,
		});
		expect(adds()).toBe(0);
	});
});

describe('Import File: a later step failing names the created import', () => {
	const UPLOAD_FAILED =
		'This is usually temporary: run the node again later. S3 said: InternalError – We encountered an internal error. Please try again.';

	it('an upload that keeps failing: the error carries the import ID and its last status', async () => {
		sim.inject({ route: 's3:put', kind: 'serverError', times: 0 });
		const result = await importFile([{ binaryText: SAMPLE_CSV }]);
		expect(result.status).toBe('error');
		const importId = onlyImport();
		const error = result.error('Import');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: `Upload file failed: the storage service had an internal error [import ${importId} was created; last status New]`,
			description: UPLOAD_FAILED,
			httpCode: '500',
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'New' });
		expect(puts().map((r) => r.status)).toEqual([500, 500, 500]);
		expect(count((r) => r.path === '/import/get')).toBe(0);
	});

	it('with continueOnFail, the error item holds importId and importStatus', async () => {
		sim.inject({ route: 's3:put', kind: 'serverError', times: 0 });
		const result = await importFile(
			[{ binaryText: SAMPLE_CSV }],
			{},
			{
				onError: 'continueRegularOutput',
			},
		);
		expect(result.status).toBe('success');
		const importId = onlyImport();
		expect(result.output('Import')).toEqual([
			{
				json: {
					error: `Upload file failed: the storage service had an internal error [import ${importId} was created; last status New]`,
					description: UPLOAD_FAILED,
					httpCode: '500',
					importId,
					importStatus: 'New',
				},
				pairedItem: { item: 0 },
			},
		]);
	});

	it('a wait that times out names the import and its last status', async () => {
		sim.inject({ route: '/import/add', kind: 'stuck', status: 'Queued' });
		const result = await importFile([{ binaryText: SAMPLE_CSV }], {
			pollInterval: 0.05,
			timeout: 0.01,
			includeErrorRows: true,
		});
		const importId = onlyImport();
		const error = result.error('Import');
		const polls = count((r) => r.path === '/import/get');
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} was still Queued after 1 s`,
			description: `The import goes on in Terros. Raise "Timeout (Minutes)", or check on it later with the Get or Wait for Completion operation (${polls} status checks were made).`,
			httpCode: null,
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Queued' });
		expect(count((r) => r.path === '/import/errors')).toBe(0);
	});

	it('a refused status check after the upload names the import', async () => {
		sim.inject({
			route: '/import/get',
			kind: 'envelope',
			error: 'NotAuthorized',
			message: 'Key revoked',
		});
		const result = await importFile([{ binaryText: SAMPLE_CSV }]);
		const importId = onlyImport();
		const error = result.error('Import');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: `Get import failed: Key revoked [import ${importId} was created; last status Uploaded]`,
			description:
				'Terros error NotAuthorized. The API key is valid but may not do this. Ask a Terros admin to check the key’s permissions under Company Settings → API Keys.',
			httpCode: '200',
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Uploaded' });
		expect(sim.imports.get(importId).uploads).toBe(1);
	});
});

describe('Import File: failed imports', () => {
	const CONTACTS = 'firstName,email\r\nAda,ada@example.com\r\n';

	it('stops with an error naming the import and the reason', async () => {
		const result = await importFile([{ binaryText: CONTACTS }], { entity: 'Contact' });
		expect(result.status).toBe('error');
		const importId = onlyImport();
		const error = result.error('Import');
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} failed: Missing required column(s) for Contact: lastName`,
			description: FAILED_DESCRIPTION,
			httpCode: null,
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Failed' });
	});

	it('outputs the failed import as an item with failedAsItem, without error rows', async () => {
		const result = await importFile([{ binaryText: CONTACTS }], {
			entity: 'Contact',
			name: '',
			failedAsItem: true,
			includeErrorRows: true,
		});
		expect(result.status).toBe('success');
		const importId = onlyImport();
		const { completedAt, waitedSeconds, polls, ...json } = result.output('Import')[0].json;
		expect(json).toEqual({
			importId,
			entity: 'Contact',
			name: null,
			bytes: Buffer.byteLength(CONTACTS),
			uploadAttempts: 1,
			importStatus: 'Failed',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			reason: 'Missing required column(s) for Contact: lastName',
			timedOut: false,
		});
		expect(typeof completedAt).toBe('number');
		expect(count((r) => r.path === '/import/errors')).toBe(0);
	});
});
