'use strict';

/** Get Errors: error records, failed rows and raw error files, downloaded in parallel from S3. */

const fs = require('node:fs');
const path = require('node:path');

const { readBinary } = require('../harness/engine');
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

const handle = useSimulator({ stepMs: 5, s3GetLatencyMs: 30 });

const SAMPLE_REASONS = {
	3: '"bad-email" is not a valid email address',
	4: 'name is required',
	5: '"not-a-phone" is not a valid phone number',
};

/** 63 data rows; every row but 21, 42 and 63 lacks its name, so 60 rows fail. */
function manyFailuresCsv() {
	let csv = 'name,email\r\n';
	for (let row = 1; row <= 63; row++) {
		csv += row % 21 === 0 ? `Company ${row},ok${row}@x.example\r\n` : `,r${row}@x.example\r\n`;
	}
	return csv;
}
const MANY_FAILED_ROWS = Array.from({ length: 63 }, (_, i) => i + 1).filter((r) => r % 21 !== 0);

async function importCsv(sim, csv, entity = 'Account') {
	const created = await createImportDirectly(sim, { entity });
	await uploadDirectly(created.url, csv);
	const log = await settle(sim, created.importData.importId);
	return { importId: created.importData.importId, log };
}

function errorFilePath(sim, importId, row) {
	return path.join(sim.dataDir, encodeURIComponent(importId), 'errors', `row-${row}.json`);
}

function errorsNode(parameters = {}, extra = {}) {
	return terros('Errors', 'getErrors', parameters, extra);
}

function s3Gets(sim) {
	return sim.requests.filter((r) => r.server === 's3' && r.method === 'GET');
}

describe('with the main simulator', () => {
	let sample; // SAMPLE_CSV: rows 3, 4 and 5 fail

	beforeAll(async () => {
		sample = await importCsv(handle.sim, SAMPLE_CSV);
		expect(sample.log.errors).toBe(3);
	});

	beforeEach(() => {
		handle.sim.faults = [];
		handle.sim.requests = [];
	});

	describe('output: records', () => {
		it('outputs one item per error file, by row, with its key and signed URL', async () => {
			const { sim } = handle;
			const result = await run(sim, [{ importId: sample.importId }], [errorsNode()]);
			expect(result.status).toBe('success');
			const output = result.output('Errors');
			expect(output.map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 0 },
				{ item: 0 },
			]);
			expect(output.map((item) => Object.keys(item.json).sort())).toEqual([
				['errorCount', 'importId', 'key', 'row', 'signedUrl'],
				['errorCount', 'importId', 'key', 'row', 'signedUrl'],
				['errorCount', 'importId', 'key', 'row', 'signedUrl'],
			]);
			for (const [index, row] of [3, 4, 5].entries()) {
				const { json } = output[index];
				expect(json).toEqual({
					importId: sample.importId,
					errorCount: 3,
					row,
					key: `imports/${sample.importId}/errors/row-${row}.json`,
					signedUrl: expect.stringContaining('X-Amz-Signature='),
				});
				const url = new URL(json.signedUrl);
				expect(url.origin).toBe(sim.s3Url);
				expect(decodeURIComponent(url.pathname)).toBe(`/terros-imports/${json.key}`);
				expect(url.searchParams.get('X-Amz-Expires')).toBe('43200');
			}
			// Records only: nothing is downloaded.
			expect(s3Gets(sim)).toHaveLength(0);
			expect(sim.requests.map((r) => r.path)).toEqual(['/import/errors']);
		});

		it('whose signed URLs download the error files as they are', async () => {
			const { sim } = handle;
			const result = await run(sim, [{ importId: sample.importId }], [errorsNode()]);
			const { json } = result.output('Errors')[1];
			const res = await fetch(json.signedUrl);
			expect(res.status).toBe(200);
			expect(await res.text()).toBe(
				fs.readFileSync(errorFilePath(sim, sample.importId, 4), 'utf8'),
			);
		});
	});

	describe('output: rows', () => {
		it('downloads every error file and outputs one item per failed row, in row order', async () => {
			const { sim } = handle;
			const result = await run(
				sim,
				[{ importId: sample.importId }],
				[errorsNode({ output: 'rows' })],
			);
			expect(result.status).toBe('success');
			const output = result.output('Errors');
			expect(output).toEqual(
				[3, 4, 5].map((row) => ({
					json: {
						importId: sample.importId,
						row,
						reason: SAMPLE_REASONS[row],
						key: `imports/${sample.importId}/errors/row-${row}.json`,
						details: JSON.parse(fs.readFileSync(errorFilePath(sim, sample.importId, row), 'utf8')),
						errorCount: 3,
					},
					pairedItem: { item: 0 },
				})),
			);
			expect(output[1].json.details).toEqual({
				row: 4,
				line: 6,
				message: 'name is required',
				errors: [{ column: 'name', message: 'name is required' }],
			});
			expect(output.some((item) => item.binary)).toBe(false);
			expect(
				s3Gets(sim)
					.map((r) => decodeURIComponent(r.path))
					.sort(),
			).toEqual(
				[3, 4, 5].map((row) => `/terros-imports/imports/${sample.importId}/errors/row-${row}.json`),
			);
		});

		it('sends no authorization header with error-file downloads', async () => {
			const { sim } = handle;
			await run(sim, [{ importId: sample.importId }], [errorsNode({ output: 'rows' })]);
			const s3 = sim.requests.filter((r) => r.server === 's3');
			expect(s3).toHaveLength(3);
			for (const request of s3) {
				expect(request.headers.authorization).toBeUndefined();
				expect(request.status).toBe(200);
			}
			const api = sim.requests.filter((r) => r.server === 'api');
			expect(api.map((r) => r.headers.authorization)).toEqual(['ApiKey sim-key-acme']);
		});

		it('retries a transient S3 503 on a download', async () => {
			const { sim } = handle;
			sim.inject({ route: 's3:get', kind: 'unavailable', times: 2 });
			const result = await run(
				sim,
				[{ importId: sample.importId }],
				[errorsNode({ output: 'rows', errorOptions: { concurrency: 1 } })],
			);
			expect(result.status).toBe('success');
			expect(result.output('Errors').map((item) => item.json.row)).toEqual([3, 4, 5]);
			expect(s3Gets(sim).map((r) => r.status)).toEqual([503, 503, 200, 200, 200]);
			expect(decodeURIComponent(s3Gets(sim)[2].path)).toMatch(/row-3\.json$/);
		});

		it('gives up on S3 after four attempts with the storage error', async () => {
			const { sim } = handle;
			sim.inject({ route: 's3:get', kind: 'unavailable', times: 0 });
			const result = await run(
				sim,
				[{ importId: sample.importId }],
				[errorsNode({ output: 'rows', errorOptions: { concurrency: 1 } })],
			);
			expect(result.status).toBe('error');
			const error = result.error('Errors');
			expect(errorShape(error)).toEqual({
				name: 'NodeApiError',
				message: 'Download error file failed: the storage service is unavailable',
				description:
					'This is usually temporary: run the node again later. S3 said: ServiceUnavailable – Service is unable to handle request.',
				httpCode: '503',
			});
			expect(error.context.importId).toBe(sample.importId);
			// One file, four attempts; the failure stops the rest.
			expect(s3Gets(sim)).toHaveLength(4);
		});

		it('reports an error file that no longer exists', async () => {
			const { sim } = handle;
			const gone = await importCsv(sim, SAMPLE_CSV);
			fs.rmSync(errorFilePath(sim, gone.importId, 5));
			sim.requests = [];
			const result = await run(
				sim,
				[{ importId: gone.importId }],
				[errorsNode({ output: 'rows' })],
			);
			expect(errorShape(result.error('Errors'))).toEqual({
				name: 'NodeApiError',
				message: 'Download error file failed: the file no longer exists',
				description:
					'Error files are removed by Clean Up and expire after 12 hours. Get the error records again. S3 said: NoSuchKey – The specified key does not exist.',
				httpCode: '404',
			});
			expect(s3Gets(sim).filter((r) => r.status === 404)).toHaveLength(1);
		});

		it('reports an error file that is not JSON as its text', async () => {
			const { sim } = handle;
			const odd = await importCsv(sim, SAMPLE_CSV);
			fs.writeFileSync(errorFilePath(sim, odd.importId, 4), '  Row 4: the name is missing\n');
			const result = await run(sim, [{ importId: odd.importId }], [errorsNode({ output: 'rows' })]);
			const output = result.output('Errors');
			expect(output.map((item) => item.json.row)).toEqual([3, 4, 5]);
			expect(output[1]).toEqual({
				json: {
					importId: odd.importId,
					row: 4,
					reason: 'Row 4: the name is missing',
					key: `imports/${odd.importId}/errors/row-4.json`,
					errorCount: 3,
				},
				pairedItem: { item: 0 },
			});
			expect(output[0].json.reason).toBe(SAMPLE_REASONS[3]);
		});
	});

	describe('output: files', () => {
		it('attaches each raw error file as binary errorFile, byte for byte', async () => {
			const { sim } = handle;
			const odd = await importCsv(sim, SAMPLE_CSV);
			fs.writeFileSync(errorFilePath(sim, odd.importId, 5), 'plain text, not JSON');
			const result = await run(
				sim,
				[{ importId: odd.importId }],
				[errorsNode({ output: 'files' })],
			);
			expect(result.status).toBe('success');
			const output = result.output('Errors');
			expect(output.map((item) => [item.json.row, item.json.reason])).toEqual([
				[3, SAMPLE_REASONS[3]],
				[4, SAMPLE_REASONS[4]],
				[5, 'plain text, not JSON'],
			]);
			for (const [index, row] of [3, 4, 5].entries()) {
				const item = output[index];
				expect(Object.keys(item.binary)).toEqual(['errorFile']);
				const binary = item.binary.errorFile;
				expect(binary.fileName).toBe(`row-${row}.json`);
				expect(binary.mimeType).toBe('application/json');
				const expected = fs.readFileSync(errorFilePath(sim, odd.importId, row));
				const bytes = await readBinary(binary);
				expect(bytes.equals(expected)).toBe(true);
				expect(item.pairedItem).toEqual({ item: 0 });
				expect(item.json.errorCount).toBe(3);
			}
		});

		it('puts the file under the binary field named in the options', async () => {
			const { sim } = handle;
			const result = await run(
				sim,
				[{ importId: sample.importId }],
				[errorsNode({ output: 'files', errorOptions: { binaryPropertyName: 'raw' } })],
			);
			const output = result.output('Errors');
			expect(output.map((item) => Object.keys(item.binary))).toEqual([['raw'], ['raw'], ['raw']]);
			const bytes = await readBinary(output[0].binary.raw);
			expect(bytes.toString('utf8')).toBe(
				fs.readFileSync(errorFilePath(sim, sample.importId, 3), 'utf8'),
			);
		});
	});

	describe('an import without errors', () => {
		let clean;
		beforeAll(async () => {
			clean = await importCsv(
				handle.sim,
				'name,email\r\nAcme,a@acme.example\r\nBeta,b@beta.example\r\n',
			);
			expect(clean.log).toEqual(
				expect.objectContaining({ importStatus: 'Completed', successes: 2, errors: 0 }),
			);
		});

		it.each(['records', 'rows', 'files'])(
			'outputs one item with errorCount 0 (%s)',
			async (output) => {
				const { sim } = handle;
				const result = await run(sim, [{ importId: clean.importId }], [errorsNode({ output })]);
				expect(result.output('Errors')).toEqual([
					{ json: { importId: clean.importId, errorCount: 0 }, pairedItem: { item: 0 } },
				]);
				expect(s3Gets(sim)).toHaveLength(0);
			},
		);
	});

	describe('bounded download concurrency', () => {
		let many;
		beforeEach(async () => {
			const { sim } = handle;
			sim.reset();
			many = await importCsv(sim, manyFailuresCsv());
			expect(many.log.errors).toBe(60);
			sim.requests = [];
		});

		it('keeps at most "Parallel Downloads" files in flight', async () => {
			const { sim } = handle;
			const result = await run(
				sim,
				[{ importId: many.importId }],
				[errorsNode({ output: 'rows', errorOptions: { concurrency: 4 } })],
			);
			expect(result.status).toBe('success');
			const output = result.output('Errors');
			expect(output.map((item) => item.json.row)).toEqual(MANY_FAILED_ROWS);
			expect(new Set(output.map((item) => item.json.reason))).toEqual(
				new Set(['name is required']),
			);
			expect(s3Gets(sim)).toHaveLength(60);
			expect(sim.stats.s3.peakInFlight).toBeLessThanOrEqual(4);
			expect(sim.stats.s3.peakInFlight).toBeGreaterThan(1);
		});

		it('downloads at most 10 at once by default', async () => {
			const { sim } = handle;
			const result = await run(
				sim,
				[{ importId: many.importId }],
				[errorsNode({ output: 'rows' })],
			);
			expect(result.output('Errors')).toHaveLength(60);
			expect(s3Gets(sim)).toHaveLength(60);
			expect(sim.stats.s3.peakInFlight).toBeLessThanOrEqual(10);
			expect(sim.stats.s3.peakInFlight).toBeGreaterThan(4);
		});

		it('downloads one at a time with a concurrency of 1', async () => {
			const { sim } = handle;
			const result = await run(
				sim,
				[{ importId: many.importId }],
				[errorsNode({ output: 'rows', errorOptions: { concurrency: 1 } })],
			);
			expect(result.output('Errors')).toHaveLength(60);
			expect(sim.stats.s3.peakInFlight).toBe(1);
		});
	});
});

describe('an error-file link that expired', () => {
	const expiring = useSimulator({ stepMs: 5, errorUrlTtlSec: 1 });

	it('says the download link expired and to run Get Errors again', async () => {
		const { sim } = expiring;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		// The first download reaches S3 1.5 s after Terros signed its 1-second link.
		sim.inject({ route: 's3:get', kind: 'slow', delayMs: 1500 });
		sim.requests = [];
		const result = await run(
			sim,
			[{ importId }],
			[errorsNode({ output: 'rows', errorOptions: { concurrency: 1 } })],
		);
		expect(result.status).toBe('error');
		const error = result.error('Errors');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Download error file failed: the error file’s download link expired',
			description:
				'Error file links last 12 hours. Run Get Errors again to get fresh links. S3 said: AccessDenied – Request has expired.',
			httpCode: '403',
		});
		expect(error.message).not.toMatch(/upload/i);
		expect(error.description).not.toMatch(/upload|Create a new import/i);
		expect(error.context.importId).toBe(importId);
		// 403 is not retried, and the failure stops the other downloads.
		expect(s3Gets(sim).map((r) => r.status)).toEqual([403]);

		// Running Get Errors again gets fresh links that work.
		const again = await run(sim, [{ importId }], [errorsNode({ output: 'rows' })]);
		expect(again.output('Errors').map((item) => item.json.row)).toEqual([3, 4, 5]);
	});

	it('maps other refusals of a download link to download wording, uploads unchanged', async () => {
		const { sim } = expiring;
		const { importId } = await importCsv(sim, SAMPLE_CSV);
		const records = await run(sim, [{ importId }], [errorsNode()]);
		const url = new URL(records.output('Errors')[0].json.signedUrl);
		url.searchParams.delete('X-Amz-Credential');
		const res = await fetch(url);
		expect(res.status).toBe(403);
		const body = await res.text();
		// The node's own mapping of that S3 answer, as a download and as an upload.
		const { s3Error } = require(
			path.resolve(__dirname, '../../dist/nodes/TerrosImport/transport/errors.js'),
		);
		const node = {
			id: 'n',
			name: 'Errors',
			type: 'terros.terrosImport',
			typeVersion: 1,
			parameters: {},
			position: [0, 0],
		};
		const download = s3Error(
			node,
			{ action: 'Download error file', itemIndex: 0, importId },
			403,
			body,
			'download',
		);
		expect(errorShape(download)).toEqual({
			name: 'NodeApiError',
			message: 'Download error file failed: the error file’s download link is no longer valid',
			description:
				'Error file links last 12 hours. Run Get Errors again to get fresh links. S3 said: AccessDenied – Query-string authentication requires the Signature, Expires and Credential parameters.',
			httpCode: '403',
		});
		const upload = s3Error(node, { action: 'Upload file', itemIndex: 0, importId }, 403, body);
		expect(upload.message).toBe('Upload file failed: the upload URL is no longer valid');
	});
});
