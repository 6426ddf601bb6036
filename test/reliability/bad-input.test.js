'use strict';

/**
 * Area 5, bad input: each answered with a NodeOperationError naming the item (its index) and the
 * fix, before any import is created for it. Every case runs two items, a good one first, so that
 * the error must name item 1 and exactly one import (the good item's) must exist afterwards.
 */

const fs = require('node:fs');

const {
	SAMPLE_CSV,
	apiCalls,
	badInput,
	errorShape,
	importWithErrors,
	pause,
	run,
	terros,
	useSimulator,
	useTempDir,
} = require('./support');

const handle = useSimulator();
const tmp = useTempDir();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});

const GOOD = { binaryText: SAMPLE_CSV, fileName: 'good.csv' };

/**
 * Runs Import File (without waiting) on [good, bad]; the node must stop at item 1 having created
 * the good item's import only. Returns the error's shape.
 */
async function refusedByImportFile(bad, parameters = {}, good = GOOD) {
	const result = await run(
		sim,
		[good, bad],
		[terros('Import', 'importFile', { waitForCompletion: false, ...parameters })],
	);
	const error = result.error('Import');
	expect(error).toBeDefined();
	expect(error.context.itemIndex).toBe(1);
	// The good item's import was created and uploaded; none for the bad item.
	expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	expect(sim.imports.size).toBe(1);
	expect([...sim.imports.values()][0].uploads).toBe(1);
	return errorShape(error);
}

const file = (name, bytes) => ({
	binaryFile: tmp.file(name, bytes),
	fileName: name,
});

describe('the file, checked before the import is created', () => {
	beforeEach(() => sim.reset());
	it.each([
		[
			'an item with no binary data',
			() => ({}),
			{},
			badInput(
				'The item has no binary data',
				'Connect a node that outputs the CSV file as binary data (e.g. Read/Write Files from Disk, HTTP Request with the response as a file, or Convert to File).',
			),
		],
		[
			'a missing binary property',
			() => ({ binaryText: SAMPLE_CSV, binaryProperty: 'file' }),
			{},
			badInput(
				'The item has no binary property "data"',
				'Its binary properties are: file. Set "Input Binary Field" to the one holding the CSV file.',
			),
		],
		[
			'an empty file',
			() => ({ binaryText: '', fileName: 'empty.csv' }),
			{},
			badInput(
				'The file is empty (file "empty.csv")',
				'Check the node that produced the file: it wrote no bytes.',
			),
		],
		[
			'a header-only file',
			() => ({ binaryText: '\uFEFFname,email,phone\r\n', fileName: 'header.csv' }),
			{},
			badInput(
				'The file has a header but no data rows (file "header.csv")',
				'There is nothing to import. Check the export that produced the file.',
			),
		],
		[
			'UTF-16 (little-endian) text',
			() =>
				file(
					'utf16le.csv',
					Buffer.concat([
						Buffer.from([0xff, 0xfe]),
						Buffer.from('name,email\r\nAcme,ops@acme.example\r\n', 'utf16le'),
					]),
				),
			{},
			badInput(
				'The file is UTF-16 text; Terros reads UTF-8 (file "utf16le.csv")',
				'Save or export the file as "CSV UTF-8".',
			),
		],
		[
			'UTF-16 (big-endian) text',
			() =>
				file(
					'utf16be.csv',
					Buffer.concat([
						Buffer.from([0xfe, 0xff]),
						Buffer.from('name,email\r\nAcme,ops@acme.example\r\n', 'utf16le').swap16(),
					]),
				),
			{},
			badInput(
				'The file is UTF-16 text; Terros reads UTF-8 (file "utf16be.csv")',
				'Save or export the file as "CSV UTF-8".',
			),
		],
		[
			'invalid UTF-8 (a Windows-1252 export)',
			() => file('cp1252.csv', Buffer.from('name,city\r\nCaf\xe9 Nord,M\xfcnchen\r\n', 'latin1')),
			{},
			badInput(
				'The file is not valid UTF-8 text (file "cp1252.csv")',
				'It is probably in a legacy encoding such as Windows-1252. Export it again as "CSV UTF-8".',
			),
		],
		[
			'an Excel workbook (ZIP signature)',
			() =>
				file(
					'book.xlsx',
					Buffer.concat([
						Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]),
						Buffer.from('[Content_Types].xml'),
						Buffer.alloc(64, 7),
					]),
				),
			{},
			badInput(
				'The file is an Excel workbook or a ZIP archive, not a CSV file (file "book.xlsx")',
				'Export the sheet as "CSV UTF-8 (Comma delimited)", or convert it with the Convert to File node set to CSV.',
			),
		],
		[
			'binary data',
			() => file('image.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])),
			{},
			badInput(
				'The file holds binary data, not CSV text (file "image.csv")',
				'Check that the binary property holds the CSV export and not another file.',
			),
		],
		[
			'a semicolon-delimited file',
			() => ({ binaryText: 'name;email\r\nAcme;ops@acme.example\r\n', fileName: 'semi.csv' }),
			{},
			badInput(
				'The file\'s columns are separated by semicolons; Terros reads comma-separated files (file "semi.csv")',
				'Export the file again with commas as the delimiter (in Excel: "CSV UTF-8 (Comma delimited)").',
			),
		],
		[
			'a tab-delimited file',
			() => ({ binaryText: 'name\temail\r\nAcme\tops@acme.example\r\n', fileName: 'tabs.tsv' }),
			{},
			badInput(
				'The file\'s columns are separated by tabs; Terros reads comma-separated files (file "tabs.tsv")',
				'Export the file again with commas as the delimiter (in Excel: "CSV UTF-8 (Comma delimited)").',
			),
		],
		[
			'a file over the user’s cap (Max File Size (MB))',
			() => ({ binaryText: SAMPLE_CSV, cap: 0.0001 }),
			{ uploadOptions: { maxFileSizeMb: '={{ $json.cap ?? 0 }}' } },
			badInput(
				`The file is ${Buffer.byteLength(SAMPLE_CSV)} bytes, more than the cap set in "Max File Size (MB)"`,
				'Split the CSV into smaller files (each with the header row) and import each one, or raise the cap.',
			),
		],
	])('%s', async (_, bad, parameters, expected) => {
		expect(await refusedByImportFile(bad(), parameters)).toEqual(expected);
	});

	it('a file over 5 GB, from n8n’s binary metadata (a sparse file in the binary store)', async () => {
		const started = Date.now();
		const result = await run(
			sim,
			[GOOD, { binaryText: SAMPLE_CSV, binarySize: 5_000_000_001, fileName: 'huge.csv' }],
			[terros('Import', 'importFile', { waitForCompletion: false })],
		);
		try {
			const error = result.error('Import');
			expect(errorShape(error)).toEqual(
				badInput(
					'The file is 5.01 GB, more than the 5 GB a single upload may hold',
					'Split the CSV into smaller files (each with the header row) and import each one, or raise the cap.',
				),
			);
			expect(error.context.itemIndex).toBe(1);
			expect(apiCalls(sim, '/import/add')).toHaveLength(1);
			// The size was read from the metadata, not by reading 5 GB.
			expect(Date.now() - started).toBeLessThan(5000);
		} finally {
			// The sparse file takes no disk, but nothing else should ever read it.
			const { Container } = require(
				require.resolve('@n8n/di', { paths: [require.resolve('n8n-core')] }),
			);
			const { StorageConfig } = require('n8n-core');
			const id = result.output('Input')[1].binary.data.id.replace(/^filesystem(-v2)?:/, '');
			fs.rmSync(`${Container.get(StorageConfig).storagePath}/${id}`, { force: true });
		}
	});

	it('Skip File Checks does not skip the size cap', async () => {
		expect(
			await refusedByImportFile(
				{ binaryText: SAMPLE_CSV, cap: 0.0001 },
				{ uploadOptions: { skipChecks: true, maxFileSizeMb: '={{ $json.cap ?? 0 }}' } },
			),
		).toEqual(
			badInput(
				`The file is ${Buffer.byteLength(SAMPLE_CSV)} bytes, more than the cap set in "Max File Size (MB)"`,
				'Split the CSV into smaller files (each with the header row) and import each one, or raise the cap.',
			),
		);
	});
});

describe('the column mapping', () => {
	beforeEach(() => sim.reset());
	const BOM_CSV = '\uFEFFname,email,phone\r\nAcme,ops@acme.example,+1 555 0100\r\n';

	it('a key missing from the header, named with the header (its BOM ignored)', async () => {
		expect(
			await refusedByImportFile(
				{ binaryText: BOM_CSV, mapping: { Company: 'name' } },
				{ options: { columnMappingJson: '={{ $json.mapping ?? {} }}' } },
			),
		).toEqual(
			badInput(
				'Column Mapping names "Company", not in the file’s header',
				'The header has: name, email, phone. Fix the mapping’s CSV column names (they are case-sensitive).',
			),
		);
	});

	it('a key naming the first column of a file with a BOM is found (the BOM is not part of it)', async () => {
		const result = await run(
			sim,
			[{ binaryText: BOM_CSV }],
			[
				terros('Import', 'importFile', {
					waitForCompletion: false,
					options: { columnMappingJson: '{"name": "name", "email": "email"}' },
				}),
			],
		);
		expect(result.error('Import')).toBeUndefined();
		expect(result.output('Import')[0].json.importStatus).toBe('Uploaded');
	});

	it.each([
		[
			'JSON that does not parse',
			'{"Company": ',
			badInput(
				'Column Mapping (JSON) is not valid JSON',
				'Give an object whose keys are CSV column names and whose values are Terros headers, e.g. {"Company": "name"}.',
			),
		],
		[
			'an array',
			['name'],
			badInput(
				'Column Mapping (JSON) must be an object',
				'Give an object such as {"Company": "name", "E-mail": "email"}.',
			),
		],
		[
			'a number',
			42,
			badInput(
				'Column Mapping (JSON) must be an object',
				'Give an object such as {"Company": "name", "E-mail": "email"}.',
			),
		],
		[
			'a value that is not text',
			{ name: 5 },
			badInput(
				'Column Mapping (JSON) maps "name" to 5, not to a header name',
				'Every value must be the name of a Terros header, as text.',
			),
		],
		[
			'a value that is empty',
			{ name: ' ' },
			badInput(
				'Column Mapping (JSON) maps "name" to " ", not to a header name',
				'Every value must be the name of a Terros header, as text.',
			),
		],
	])('not an object of strings: %s', async (_, mapping, expected) => {
		expect(
			await refusedByImportFile(
				{ binaryText: SAMPLE_CSV, mapping },
				{ options: { columnMappingJson: '={{ $json.mapping ?? {} }}' } },
			),
		).toEqual(expected);
	});

	it('a pair with a column and no header', async () => {
		expect(
			await refusedByImportFile(
				{ binaryText: SAMPLE_CSV, header: '' },
				{
					options: {
						columnMapping: {
							mappings: [{ csvColumn: 'name', terrosHeader: '={{ $json.header ?? "name" }}' }],
						},
					},
				},
			),
		).toEqual(
			badInput(
				'A column mapping pair is half empty',
				'Fill in both the CSV column and the Terros header, or remove the pair.',
			),
		);
	});
});

describe('the entity and its options, arriving through an expression', () => {
	beforeEach(() => sim.reset());
	const byExpression = { entity: '={{ $json.entity ?? "Account" }}' };

	it('an unknown entity', async () => {
		expect(
			await refusedByImportFile({ binaryText: SAMPLE_CSV, entity: 'Lead' }, byExpression),
		).toEqual(
			badInput(
				'"Lead" is not an entity Terros can import',
				'Use one of: Account, Contact, CalendarEvent, User, Task, Recruit.',
			),
		);
	});

	it.each([
		['disableGeocoding', 'Task', true, 'Account, CalendarEvent, Contact, Recruit'],
		['notifyUsers', 'Account', true, 'User'],
		['workflowId', 'Contact', 'Workflow:abc', 'Account'],
		['addMissingUsers', 'CalendarEvent', true, 'Account, Contact, Recruit, User'],
	])('%s for %s imports', async (option, entity, value, applies) => {
		expect(
			await refusedByImportFile(
				{ binaryText: SAMPLE_CSV, entity, value },
				{ ...byExpression, options: { [option]: `={{ $json.value ?? undefined }}` } },
			),
		).toEqual(
			badInput(
				`The option "${option}" does not apply to ${entity} imports`,
				`It applies to ${applies} imports only. Remove it, or change the entity.`,
			),
		);
	});

	it('an option of the wrong type', async () => {
		expect(
			await refusedByImportFile(
				{ binaryText: SAMPLE_CSV, flag: 'yes' },
				{ options: { disableGeocoding: '={{ $json.flag ?? false }}' } },
			),
		).toEqual(badInput('The option "disableGeocoding" must be true or false', 'It came as "yes".'));
	});

	it('wait settings that cannot work', async () => {
		const result = await run(
			sim,
			[GOOD, { binaryText: SAMPLE_CSV, poll: 0 }],
			[terros('Import', 'importFile', { pollInterval: '={{ $json.poll ?? 0.02 }}' })],
		);
		const error = result.error('Import');
		expect(errorShape(error)).toEqual(
			badInput('"Poll Interval (Seconds)" must be a number above zero', 'It is 0.'),
		);
		expect(error.context.itemIndex).toBe(1);
		expect(apiCalls(sim, '/import/add')).toHaveLength(1);
	});
});

describe('the import ID', () => {
	let good;
	beforeAll(async () => {
		sim.reset();
		good = await importWithErrors(sim);
	});

	const EMPTY_ID =
		'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.';
	const NOT_AN_ID = 'Import IDs look like Import:abc123, as returned by the Create operation.';
	const GOOD_ITEM_REQUESTS = {
		get: ['/import/get'],
		getErrors: ['/import/errors'],
		cleanUp: ['/import/get', '/import/cleanup'],
	};

	// Wait for Completion last: its items run side by side, so the good item's first status check
	// may already be on its way when the bad item fails the node, and arrive a moment later.
	describe.each([['get'], ['getErrors'], ['cleanUp'], ['waitForCompletion']])('%s', (operation) => {
		it.each([
			['missing', {}, badInput('The import ID is empty', EMPTY_ID)],
			['empty', { importId: '' }, badInput('The import ID is empty', EMPTY_ID)],
			['spaces only', { importId: '   ' }, badInput('The import ID is empty', EMPTY_ID)],
			['malformed', { importId: 'abc123' }, badInput('"abc123" is not an import ID', NOT_AN_ID)],
			['not text', { importId: 42 }, badInput('The import ID is empty', EMPTY_ID)],
			[
				'a URL pasted by mistake',
				{ importId: 'https://app.terros.com/imports/Import:abc' },
				badInput('"https://app.terros.com/imports/Import:abc" is not an import ID', NOT_AN_ID),
			],
		])('%s', async (_, bad, expected) => {
			const result = await run(
				sim,
				[{ importId: good }, bad],
				[terros('Node', operation, { pollInterval: 0.02 })],
			);
			const error = result.error('Node');
			expect(errorShape(error)).toEqual(expected);
			expect(error.context.itemIndex).toBe(1);
			// Only the good item's requests reached Terros (a wait runs its items side by side, so
			// the good item's first status check may come before or after the bad item fails).
			if (operation === 'waitForCompletion') {
				await pause(100);
				const sent = sim.requests.filter((r) => r.server === 'api');
				expect(sent.length).toBeLessThanOrEqual(1);
			} else {
				const sent = sim.requests.filter((r) => r.server === 'api').map((r) => r.path);
				expect(sent).toEqual(GOOD_ITEM_REQUESTS[operation]);
			}
		});
	});
});
