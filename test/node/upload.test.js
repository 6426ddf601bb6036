'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startSimulator } = require('../simulator');
const {
	SAMPLE_CSV,
	createImportDirectly,
	errorShape,
	run,
	settle,
	terros,
	useSimulator,
} = require('./helpers');

const handle = useSimulator();
let sim;
let tmpDir;

beforeAll(() => {
	sim = handle.sim;
	tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-upload-test-'));
});
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));
beforeEach(() => sim.reset());

const SAMPLE_BYTES = Buffer.byteLength(SAMPLE_CSV, 'utf8');
const md5 = (data) => `"${crypto.createHash('md5').update(data).digest('hex')}"`;
const puts = (s = sim) => s.requests.filter((r) => r.server === 's3' && r.method === 'PUT');
const UPLOAD_URL_DESCRIPTION =
	'Use the uploadUrl returned by the Create operation. By default it is read from the incoming item, which has none.';

/** Writes `bytes` to a temporary file and returns its path. */
function tempFile(name, bytes) {
	const file = path.join(tmpDir, name);
	fs.writeFileSync(file, bytes);
	return file;
}

/** Creates an import on the simulator and returns the item fields Create would output. */
async function newImport(s = sim, body = { entity: 'Account' }) {
	const created = await createImportDirectly(s, body);
	// Only the node's own requests are of interest.
	s.requests = [];
	return { importId: created.importData.importId, uploadUrl: created.url };
}

function upload(items, parameters = {}, extra = {}, s = sim) {
	return run(s, items, [terros('Upload', 'uploadFile', parameters, extra)]);
}

describe('Upload File: success', () => {
	it('streams a file from the binary store to S3 with its length, text/csv and no auth header', async () => {
		const target = await newImport();
		const result = await upload([{ ...target, binaryText: SAMPLE_CSV }]);
		expect(result.status).toBe('success');
		// The file really lives in the binary store (filesystem mode), not inline.
		const binary = result.output('Input')[0].binary.data;
		expect(binary.id).toMatch(/^filesystem-v2:/);
		expect(binary.data).toBe('filesystem-v2');

		const items = result.output('Upload');
		expect(items).toHaveLength(1);
		const { uploadMs, ...json } = items[0].json;
		expect(json).toEqual({
			importId: target.importId,
			uploaded: true,
			bytes: SAMPLE_BYTES,
			fileName: 'upload.csv',
			etag: md5(SAMPLE_CSV),
			attempts: 1,
		});
		expect(typeof uploadMs).toBe('number');
		expect(items[0].pairedItem).toEqual({ item: 0 });

		const [put] = puts();
		expect(puts()).toHaveLength(1);
		expect(put.status).toBe(200);
		expect(put.path).toBe(
			`/terros-imports/imports/${encodeURIComponent(target.importId)}/upload.csv`,
		);
		expect(put.headers['content-length']).toBe(String(SAMPLE_BYTES));
		expect(put.headers['transfer-encoding']).toBeUndefined();
		expect(put.headers['content-type']).toBe('text/csv');
		expect(put.headers.authorization).toBeUndefined();
		expect(Object.keys(put.headers).filter((h) => /auth|api-?key|cookie/i.test(h))).toEqual([]);
		// No Terros API call is made by an upload.
		expect(sim.requests.filter((r) => r.server === 'api')).toEqual([]);

		// The bytes arrived whole: the simulator parses the sample as 2 good rows, 3 bad.
		const record = sim.imports.get(target.importId);
		expect([record.uploads, record.uploadedBytes]).toEqual([1, SAMPLE_BYTES]);
		const log = await settle(sim, target.importId);
		expect([log.importStatus, log.successes, log.errors, log.totalMessages]).toEqual([
			'Completed',
			2,
			3,
			5,
		]);
	});

	it('uploads inline (base64) binary data too', async () => {
		const target = await newImport();
		const result = await upload([{ ...target, binaryInline: SAMPLE_CSV, fileName: 'inline.csv' }]);
		expect(result.status).toBe('success');
		expect(result.output('Input')[0].binary.data.id).toBeUndefined();
		const { uploadMs, ...json } = result.output('Upload')[0].json;
		expect(json).toEqual({
			importId: target.importId,
			uploaded: true,
			bytes: SAMPLE_BYTES,
			fileName: 'inline.csv',
			etag: md5(SAMPLE_CSV),
			attempts: 1,
		});
		const [put] = puts();
		expect([put.headers['content-length'], put.headers['transfer-encoding']]).toEqual([
			String(SAMPLE_BYTES),
			undefined,
		]);
		expect(put.headers.authorization).toBeUndefined();
		expect(sim.imports.get(target.importId).uploadedBytes).toBe(SAMPLE_BYTES);
	});

	it('streams a file read from disk, from another binary property', async () => {
		const target = await newImport();
		const file = tempFile('accounts.csv', SAMPLE_CSV);
		const result = await upload(
			[{ ...target, binaryFile: file, fileName: 'accounts.csv', binaryProperty: 'csv' }],
			{ binaryPropertyName: 'csv' },
		);
		expect(result.status).toBe('success');
		expect(result.output('Input')[0].binary.csv.id).toMatch(/^filesystem-v2:/);
		expect(result.output('Upload')[0].json).toMatchObject({
			importId: target.importId,
			bytes: SAMPLE_BYTES,
			fileName: 'accounts.csv',
			etag: md5(SAMPLE_CSV),
		});
		expect(puts()[0].headers['content-length']).toBe(String(SAMPLE_BYTES));
	});

	it('passes the importId of the item through, and outputs null when the item has none', async () => {
		const a = await newImport();
		const b = await newImport();
		const result = await upload([
			{ importId: a.importId, uploadUrl: a.uploadUrl, binaryText: SAMPLE_CSV },
			{ uploadUrl: b.uploadUrl, binaryText: SAMPLE_CSV },
		]);
		expect(result.status).toBe('success');
		const items = result.output('Upload');
		expect(items.map((i) => [i.json.importId, i.json.uploaded, i.pairedItem])).toEqual([
			[a.importId, true, { item: 0 }],
			[null, true, { item: 1 }],
		]);
		expect(puts()).toHaveLength(2);
		expect(sim.imports.get(b.importId).uploads).toBe(1);
	});

	it('takes the upload URL from the parameter when it is set', async () => {
		const target = await newImport();
		const result = await upload([{ binaryText: SAMPLE_CSV }], { uploadUrl: target.uploadUrl });
		expect(result.status).toBe('success');
		expect(result.output('Upload')[0].json).toMatchObject({ importId: null, uploaded: true });
		expect(sim.imports.get(target.importId).uploads).toBe(1);
	});
});

describe('Upload File: bad input, refused before any request', () => {
	/** Runs an upload expected to fail; returns the node's error shape. */
	async function refused(item, parameters) {
		const target = await newImport();
		const result = await upload([{ ...target, ...item }], parameters);
		expect(result.status).toBe('error');
		expect(puts()).toHaveLength(0);
		expect(sim.imports.get(target.importId).importStatus).toBe('New');
		return errorShape(result.error('Upload'));
	}

	const problem = (message, description) => ({
		name: 'NodeOperationError',
		message,
		description,
		httpCode: null,
	});

	it('an item without binary data', async () => {
		expect(await refused({})).toEqual(
			problem(
				'The item has no binary data',
				'Connect a node that outputs the CSV file as binary data (e.g. Read/Write Files from Disk, HTTP Request with the response as a file, or Convert to File).',
			),
		);
	});

	it('a wrong binary property name', async () => {
		expect(
			await refused(
				{ binaryText: SAMPLE_CSV, binaryProperty: 'file' },
				{ binaryPropertyName: 'data' },
			),
		).toEqual(
			problem(
				'The item has no binary property "data"',
				'Its binary properties are: file. Set "Input Binary Field" to the one holding the CSV file.',
			),
		);
	});

	it('an empty file', async () => {
		expect(await refused({ binaryText: '' })).toEqual(
			problem(
				'The file is empty (file "upload.csv")',
				'Check the node that produced the file: it wrote no bytes.',
			),
		);
	});

	it('a header-only file', async () => {
		expect(await refused({ binaryText: '\uFEFFname,email,phone\r\n' })).toEqual(
			problem(
				'The file has a header but no data rows (file "upload.csv")',
				'There is nothing to import. Check the export that produced the file.',
			),
		);
	});

	it('an Excel workbook (ZIP signature)', async () => {
		const bytes = Buffer.concat([
			Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]),
			Buffer.from('[Content_Types].xml'),
			crypto.randomBytes(200),
		]);
		const file = tempFile('book.xlsx', bytes);
		expect(
			await refused({
				binaryFile: file,
				fileName: 'book.xlsx',
				mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
			}),
		).toEqual(
			problem(
				'The file is an Excel workbook or a ZIP archive, not a CSV file (file "book.xlsx")',
				'Export the sheet as "CSV UTF-8 (Comma delimited)", or convert it with the Convert to File node set to CSV.',
			),
		);
	});

	it('UTF-16 text', async () => {
		const bytes = Buffer.concat([
			Buffer.from([0xff, 0xfe]),
			Buffer.from('name,email\r\nAcme,ops@acme.example\r\n', 'utf16le'),
		]);
		const file = tempFile('utf16.csv', bytes);
		expect(await refused({ binaryFile: file, fileName: 'utf16.csv' })).toEqual(
			problem(
				'The file is UTF-16 text; Terros reads UTF-8 (file "utf16.csv")',
				'Save or export the file as "CSV UTF-8".',
			),
		);
	});

	it('a semicolon-delimited file', async () => {
		expect(await refused({ binaryText: 'name;email\r\nAcme;ops@acme.example\r\n' })).toEqual(
			problem(
				'The file\'s columns are separated by semicolons; Terros reads comma-separated files (file "upload.csv")',
				'Export the file again with commas as the delimiter (in Excel: "CSV UTF-8 (Comma delimited)").',
			),
		);
	});

	it('a file larger than Max File Size (MB)', async () => {
		expect(
			await refused({ binaryText: SAMPLE_CSV }, { uploadOptions: { maxFileSizeMb: 0.0001 } }),
		).toEqual(
			problem(
				`The file is ${SAMPLE_BYTES} bytes, more than the cap set in "Max File Size (MB)"`,
				'Split the CSV into smaller files (each with the header row) and import each one, or raise the cap.',
			),
		);
	});

	it('a missing upload URL', async () => {
		const result = await upload([{ binaryText: SAMPLE_CSV }]);
		expect(errorShape(result.error('Upload'))).toEqual(
			problem('The upload URL is missing or not a URL', UPLOAD_URL_DESCRIPTION),
		);
		expect(sim.requests).toEqual([]);
	});

	it.each([['not a url'], ['ftp://127.0.0.1/terros-imports/x'], ['   ']])(
		'an invalid upload URL %j',
		async (uploadUrl) => {
			const result = await upload([{ uploadUrl, binaryText: SAMPLE_CSV }]);
			expect(errorShape(result.error('Upload'))).toEqual(
				problem('The upload URL is missing or not a URL', UPLOAD_URL_DESCRIPTION),
			);
			expect(sim.requests).toEqual([]);
		},
	);

	it('uploads a semicolon file anyway with Skip File Checks', async () => {
		const target = await newImport();
		const text = 'name;email\r\nAcme;ops@acme.example\r\n';
		const result = await upload([{ ...target, binaryText: text }], {
			uploadOptions: { skipChecks: true },
		});
		expect(result.status).toBe('success');
		expect(result.output('Upload')[0].json).toMatchObject({
			uploaded: true,
			bytes: Buffer.byteLength(text),
		});
		expect(puts()).toHaveLength(1);
	});
});

describe('Upload File: S3 errors', () => {
	it('maps an expired upload URL, naming the import, without retrying', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const target = await newImport();
		const result = await upload([{ ...target, binaryText: SAMPLE_CSV }]);
		expect(result.status).toBe('error');
		const error = result.error('Upload');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL expired',
			description: `Upload URLs last one hour. Create a new import (this one, ${target.importId}, can be left as it is) and upload the file to its URL. S3 said: AccessDenied – Request has expired.`,
			httpCode: '403',
		});
		expect(error.context.importId).toBe(target.importId);
		expect(puts().map((r) => r.status)).toEqual([403]);
		expect(sim.imports.get(target.importId).importStatus).toBe('New');
	});

	it('maps SignatureDoesNotMatch for a tampered URL, without retrying', async () => {
		const target = await newImport();
		const url = new URL(target.uploadUrl);
		const signature = url.searchParams.get('X-Amz-Signature');
		const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
		url.searchParams.set('X-Amz-Signature', flipped);
		const result = await upload([
			{ importId: target.importId, uploadUrl: url.toString(), binaryText: SAMPLE_CSV },
		]);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL’s signature does not match the request',
			description:
				'The URL was changed after Terros made it, or the file was sent with another content type. Use the URL exactly as Add Import returned it. S3 said: SignatureDoesNotMatch – The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			httpCode: '403',
		});
		expect(puts().map((r) => r.status)).toEqual([403]);
	});

	it('maps EntityTooLarge from a bucket with a small size limit', async () => {
		const small = await startSimulator({ stepMs: 5, maxUploadBytes: 64 });
		try {
			const target = await newImport(small);
			const result = await upload([{ ...target, binaryText: SAMPLE_CSV }], {}, {}, small);
			expect(errorShape(result.error('Upload'))).toEqual({
				name: 'NodeApiError',
				message: 'Upload file failed: the file is larger than one upload may be (5 GB)',
				description:
					'Split the CSV into files under 5 GB and import each one. S3 said: EntityTooLarge – Your proposed upload exceeds the maximum allowed size.',
				httpCode: '400',
			});
			expect(puts(small).map((r) => r.status)).toEqual([400]);
		} finally {
			await small.stop();
		}
	});

	it('retries a transient S3 500 and succeeds on the second PUT, resending the whole file', async () => {
		const target = await newImport();
		sim.inject({ route: 's3:put', kind: 'serverError', times: 1 });
		const result = await upload([{ ...target, binaryText: SAMPLE_CSV }]);
		expect(result.status).toBe('success');
		expect(result.output('Upload')[0].json).toMatchObject({
			importId: target.importId,
			uploaded: true,
			attempts: 2,
			etag: md5(SAMPLE_CSV),
		});
		expect(puts().map((r) => [r.status, r.headers['content-length']])).toEqual([
			[500, String(SAMPLE_BYTES)],
			[200, String(SAMPLE_BYTES)],
		]);
		expect(sim.imports.get(target.importId).uploadedBytes).toBe(SAMPLE_BYTES);
		const log = await settle(sim, target.importId);
		expect([log.successes, log.errors]).toEqual([2, 3]);
	});

	it('retries 503 SlowDown and a RequestTimeout', async () => {
		const target = await newImport();
		sim.inject({ route: 's3:put', kind: 'throttle', times: 1 });
		sim.inject({ route: 's3:put', kind: 'requestTimeout', times: 1 });
		const result = await upload([{ ...target, binaryInline: SAMPLE_CSV }]);
		expect(result.status).toBe('success');
		expect(result.output('Upload')[0].json.attempts).toBe(3);
		expect(puts().map((r) => r.status)).toEqual([503, 400, 200]);
	});

	it('gives up after 3 attempts when S3 keeps failing', async () => {
		const target = await newImport();
		sim.inject({ route: 's3:put', kind: 'serverError', times: 0 });
		const result = await upload([{ ...target, binaryText: SAMPLE_CSV }]);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the storage service had an internal error',
			description:
				'This is usually temporary: run the node again later. S3 said: InternalError – We encountered an internal error. Please try again.',
			httpCode: '500',
		});
		expect(puts().map((r) => r.status)).toEqual([500, 500, 500]);
	});

	it('maps AccessDenied for an import S3 no longer knows, and never retries a 403', async () => {
		const target = await newImport();
		sim.imports.delete(target.importId);
		const result = await upload([{ ...target, binaryText: SAMPLE_CSV }]);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL is no longer valid',
			description:
				'Upload URLs last one hour. Create a new import and upload the file to its new URL. S3 said: AccessDenied – Access Denied.',
			httpCode: '403',
		});
		expect(puts().map((r) => r.status)).toEqual([403]);
	});

	it('with continueOnFail, outputs the S3 error as an item naming the import', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const expired = await newImport();
		const fresh = await newImport();
		const result = await upload(
			[
				{ ...expired, binaryText: SAMPLE_CSV },
				{ ...fresh, binaryText: SAMPLE_CSV },
			],
			{},
			{ onError: 'continueRegularOutput' },
		);
		expect(result.status).toBe('success');
		const items = result.output('Upload');
		expect(items[0]).toEqual({
			json: {
				error: 'Upload file failed: the upload URL expired',
				description: `Upload URLs last one hour. Create a new import (this one, ${expired.importId}, can be left as it is) and upload the file to its URL. S3 said: AccessDenied – Request has expired.`,
				httpCode: '403',
				importId: expired.importId,
			},
			pairedItem: { item: 0 },
		});
		expect(items[1].json).toMatchObject({ importId: fresh.importId, uploaded: true });
		expect(items[1].pairedItem).toEqual({ item: 1 });
	});
});
