'use strict';

const crypto = require('node:crypto');
const fsp = require('node:fs/promises');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { startSimulator } = require('./index');
const { Presigner } = require('./s3');
const {
	call,
	request,
	upload,
	expectS3Error,
	addImport,
	getLog,
	sleep,
	waitForStatus,
	withQuery,
	tamperSignature,
} = require('./support/http');

const CSV = 'name,email\nAcme,info@acme.example\nGlobex,sales@globex.example\n';
const md5 = (body) => `"${crypto.createHash('md5').update(body).digest('hex')}"`;
const SIGNATURE_MISMATCH =
	'The request signature we calculated does not match the signature you provided. Check your key and signing method.';

let sim;

beforeAll(async () => {
	sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5 });
});

afterAll(() => sim.stop());

beforeEach(() => sim.reset());

const storedFile = (importId) => path.join(sim.dataDir, encodeURIComponent(importId), 'upload.csv');

const exists = (file) =>
	fsp.access(file).then(
		() => true,
		() => false,
	);

async function expectNothingStored(importId) {
	expect((await getLog(sim, importId)).importStatus).toBe('New');
	await expect(fsp.access(storedFile(importId))).rejects.toMatchObject({ code: 'ENOENT' });
}

describe('successful upload', () => {
	it('answers 200 with the MD5 ETag and a request id', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const res = await upload(url, CSV);
		expect(res).toEqual({
			status: 200,
			headers: expect.objectContaining({
				etag: md5(CSV),
				'content-length': '0',
				'x-amz-request-id': expect.stringMatching(/^[0-9A-F]{16}$/),
			}),
			text: '',
		});
	});

	it('stores the bytes untouched', async () => {
		const body = Buffer.concat([
			Buffer.from([0xef, 0xbb, 0xbf]),
			Buffer.from(CSV.replace(/\n/g, '\r\n')),
		]);
		sim.inject({ route: '/import/add', kind: 'stuck', status: 'Uploaded' });
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		expect((await upload(url, body)).status).toBe(200);
		expect(await fsp.readFile(storedFile(importId))).toEqual(body);
	});

	it('moves the import from New to Uploaded', async () => {
		sim.inject({ route: '/import/add', kind: 'stuck', status: 'Uploaded' });
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		expect((await getLog(sim, importId)).importStatus).toBe('New');
		await upload(url, CSV);
		expect((await getLog(sim, importId)).importStatus).toBe('Uploaded');
	});

	it('accepts a 0-byte file', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const res = await upload(url, '');
		expect([res.status, res.headers.etag]).toEqual([200, '"d41d8cd98f00b204e9800998ecf8427e"']);
	});

	it('accepts a streamed upload that sends Content-Length', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const chunks = ['name,email\n', 'Acme,info@acme.example\n', 'Globex,sales@globex.example\n'];
		const res = await request(url, {
			method: 'PUT',
			headers: { 'Content-Type': 'text/csv', 'Content-Length': String(CSV.length) },
			body: chunks,
		});
		expect([res.status, res.headers.etag]).toEqual([200, md5(CSV)]);
	});

	it('replaces the file on a second PUT without processing the import again', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		await upload(url, CSV);
		const first = await waitForStatus(sim, importId);
		const again = await upload(url, `${CSV}Initech,hr@initech.example\n`);
		await sleep(60);
		expect(first).toMatchObject({ importStatus: 'Completed', successes: 2 });
		expect(again.status).toBe(200);
		expect(await getLog(sim, importId)).toEqual(first);
		expect(await fsp.readFile(storedFile(importId), 'utf8')).toBe(
			`${CSV}Initech,hr@initech.example\n`,
		);
	});

	it('keeps nothing when the client goes away mid-body, and takes a later upload', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		await new Promise((resolve) => {
			const req = http.request(url, {
				method: 'PUT',
				agent: false,
				headers: { 'Content-Type': 'text/csv', 'Content-Length': '1000' },
			});
			req.on('error', () => {});
			req.write('name,email\n', () => setTimeout(() => resolve(req.destroy()), 20));
		});
		for (let i = 0; i < 100 && (await exists(storedFile(importId))); i++) await sleep(5);
		expect(sim.stats.s3.inFlight).toBe(0);
		await expectNothingStored(importId);
		expect((await upload(url, CSV)).status).toBe(200);
		expect((await waitForStatus(sim, importId)).importStatus).toBe('Completed');
	});
});

describe('S3 errors', () => {
	it('answers 400 InvalidArgument when an Authorization header is sent', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		const res = await upload(url, CSV, { headers: { Authorization: 'ApiKey sim-key-acme' } });
		expectS3Error(
			res,
			400,
			'InvalidArgument',
			'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
		);
		await expectNothingStored(importId);
	});

	it('answers 411 MissingContentLength without Content-Length', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		const res = await request(url, {
			method: 'PUT',
			headers: { 'Content-Type': 'text/csv' },
			omit: ['content-length', 'transfer-encoding'],
		});
		expect(sim.requests.at(-1).headers).not.toHaveProperty('content-length');
		expect(sim.requests.at(-1).headers).not.toHaveProperty('transfer-encoding');
		expectS3Error(
			res,
			411,
			'MissingContentLength',
			'You must provide the Content-Length HTTP header.',
		);
		await expectNothingStored(importId);
	});

	it('answers 501 NotImplemented to Transfer-Encoding: chunked', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		const res = await request(url, {
			method: 'PUT',
			headers: { 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' },
			body: ['name,email\n', 'Acme,info@acme.example\n'],
		});
		expect(sim.requests.at(-1).headers['transfer-encoding']).toBe('chunked');
		expectS3Error(
			res,
			501,
			'NotImplemented',
			'A header you provided implies functionality that is not implemented',
		);
		await expectNothingStored(importId);
	});

	describe('SignatureDoesNotMatch', () => {
		const put = (url, headers = { 'Content-Type': 'text/csv' }) =>
			request(url, {
				method: 'PUT',
				headers: { ...headers, 'Content-Length': String(CSV.length) },
				body: CSV,
			});

		it.each(['text/plain', 'text/csv; charset=utf-8', 'application/octet-stream', 'TEXT/CSV'])(
			'answers 403 to Content-Type %s',
			async (contentType) => {
				const { url, importId } = await addImport(sim, { entity: 'Account' });
				expectS3Error(
					await put(url, { 'Content-Type': contentType }),
					403,
					'SignatureDoesNotMatch',
					SIGNATURE_MISMATCH,
				);
				await expectNothingStored(importId);
			},
		);

		it('answers 403 without a Content-Type', async () => {
			const { url } = await addImport(sim, { entity: 'Account' });
			expectS3Error(await put(url, {}), 403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
		});

		it('answers 403 to a tampered signature', async () => {
			const { url, importId } = await addImport(sim, { entity: 'Account' });
			expectS3Error(
				await put(tamperSignature(url)),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
			await expectNothingStored(importId);
		});

		it("answers 403 to another import's path under this signature", async () => {
			const a = await addImport(sim, { entity: 'Account' });
			const b = await addImport(sim, { entity: 'Account' });
			const tampered = new URL(a.url);
			tampered.pathname = new URL(b.url).pathname;
			expectS3Error(
				await put(tampered.toString()),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
			await expectNothingStored(a.importId);
			await expectNothingStored(b.importId);
		});

		it('answers 403 to another file name under this signature', async () => {
			const { url } = await addImport(sim, { entity: 'Account' });
			expectS3Error(
				await put(url.replace('/upload.csv?', '/other.csv?')),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
		});

		it('answers 403 to a longer X-Amz-Expires', async () => {
			const { url } = await addImport(sim, { entity: 'Account' });
			expectS3Error(
				await put(withQuery(url, { 'X-Amz-Expires': '7200' })),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
		});

		it('answers 403 to a later X-Amz-Date', async () => {
			const { url } = await addImport(sim, { entity: 'Account' });
			const later = new Date(Date.now() + 60_000).toISOString().replace(/[-:]|\.\d{3}/g, '');
			expectS3Error(
				await put(withQuery(url, { 'X-Amz-Date': later })),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
		});

		it('answers 403 when the Host differs from the signed one', async () => {
			const { url } = await addImport(sim, { entity: 'Account' });
			expectS3Error(
				await put(url, { 'Content-Type': 'text/csv', Host: 'localhost' }),
				403,
				'SignatureDoesNotMatch',
				SIGNATURE_MISMATCH,
			);
		});
	});

	it.each(['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires'])(
		'answers 403 AccessDenied without %s',
		async (param) => {
			const { url } = await addImport(sim, { entity: 'Account' });
			const u = new URL(url);
			u.searchParams.delete(param);
			expectS3Error(
				await upload(u.toString(), CSV),
				403,
				'AccessDenied',
				'Query-string authentication requires the Signature, Expires and Credential parameters',
			);
		},
	);

	it('answers 403 AccessDenied to an X-Amz-Date not in ISO 8601 long format', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		expectS3Error(
			await upload(withQuery(url, { 'X-Amz-Date': '2026-03-01T00:00:00Z' }), CSV),
			403,
			'AccessDenied',
			'X-Amz-Date must be in the ISO8601 Long Format',
		);
	});

	it('answers 403 AccessDenied "Request has expired" to a shortUploadUrl with ttlSec 0', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		expectS3Error(await upload(url, CSV), 403, 'AccessDenied', 'Request has expired');
		await expectNothingStored(importId);
	});

	it('gives only the next import a shortUploadUrl', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const short = await addImport(sim, { entity: 'Account' });
		const normal = await addImport(sim, { entity: 'Account' });
		expect(new URL(normal.url).searchParams.get('X-Amz-Expires')).toBe('3600');
		expect((await upload(short.url, CSV)).status).toBe(403);
		expect((await upload(normal.url, CSV)).status).toBe(200);
	});

	it('answers 403 AccessDenied to a correctly signed URL for an unknown import', async () => {
		const host = new URL(sim.s3Url).host;
		const url = await new Presigner().sign(
			host,
			'PUT',
			'imports/Import:000000000000/upload.csv',
			60,
		);
		expectS3Error(await upload(url, CSV), 403, 'AccessDenied', 'Access Denied');
	});

	it('answers 403 AccessDenied to a correctly signed URL for another key of an import', async () => {
		const { importId } = await addImport(sim, { entity: 'Account' });
		const host = new URL(sim.s3Url).host;
		const url = await new Presigner().sign(
			host,
			'PUT',
			`imports/${importId}/errors/row-1.json`,
			60,
		);
		expectS3Error(await upload(url, CSV), 403, 'AccessDenied', 'Access Denied');
		await expectNothingStored(importId);
	});

	it.each([
		['another bucket', '/other-bucket/imports/Import:1/upload.csv'],
		['a path outside imports/', '/terros-imports/uploads/Import:1/upload.csv'],
		['no import id', '/terros-imports/imports/'],
	])('answers 404 NoSuchBucket for %s', async (_label, pathname) => {
		const res = await upload(`${sim.s3Url}${pathname}`, CSV);
		expectS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
	});

	it('answers 405 MethodNotAllowed to DELETE', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const res = await request(url, { method: 'DELETE' });
		expectS3Error(
			res,
			405,
			'MethodNotAllowed',
			'The specified method is not allowed against this resource.',
		);
	});

	it('does not answer S3 requests with the Terros envelope', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const res = await upload(url, CSV, { contentType: 'application/json' });
		expect(res.text.startsWith('<?xml')).toBe(true);
		expect(res.text).not.toContain('"type"');
	});
});

describe('with uploadUrlTtlSec: 2', () => {
	let short;

	beforeAll(async () => {
		short = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, uploadUrlTtlSec: 2 });
	});

	afterAll(() => short.stop());

	it('signs upload URLs for 2 s, takes a file within them and refuses one after', async () => {
		const { url } = await addImport(short, { entity: 'Account' });
		expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('2');
		expect((await upload(url, CSV)).status).toBe(200);
		await sleep(2100);
		expectS3Error(await upload(url, CSV), 403, 'AccessDenied', 'Request has expired');
	});
});

describe('with uploadUrlTtlSec: 0', () => {
	let expired;

	beforeAll(async () => {
		expired = await startSimulator({ apiPort: 0, s3Port: 0, uploadUrlTtlSec: 0 });
	});

	afterAll(() => expired.stop());

	it('hands out upload URLs that have already expired', async () => {
		const res = await call(expired, '/import/add', { entity: 'Account' });
		expectS3Error(await upload(res.body.url, CSV), 403, 'AccessDenied', 'Request has expired');
	});
});

describe('with maxUploadBytes: 16', () => {
	let small;

	beforeAll(async () => {
		small = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, maxUploadBytes: 16 });
	});

	afterAll(() => small.stop());

	it('answers 400 EntityTooLarge to 17 bytes', async () => {
		const { url, importId } = await addImport(small, { entity: 'Account' });
		const res = await upload(url, `name\n${'A'.repeat(11)}\n`);
		expectS3Error(
			res,
			400,
			'EntityTooLarge',
			'Your proposed upload exceeds the maximum allowed size',
		);
		expect((await getLog(small, importId)).importStatus).toBe('New');
	});

	it('takes exactly 16 bytes', async () => {
		const { url } = await addImport(small, { entity: 'Account' });
		expect((await upload(url, `name\n${'A'.repeat(10)}\n`)).status).toBe(200);
	});
});

describe('dataDir', () => {
	it('keeps files in a given dataDir after stop, and removes its own temp dir', async () => {
		const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'terros-sim-test-'));
		const given = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, dataDir });
		const own = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5 });
		try {
			for (const target of [given, own]) {
				target.inject({ route: '/import/add', kind: 'stuck', status: 'Uploaded' });
				const { url } = await addImport(target, { entity: 'Account' });
				expect((await upload(url, CSV)).status).toBe(200);
			}
			await given.stop();
			await own.stop();
			expect(await exists(own.dataDir)).toBe(false);
			const [dir] = await fsp.readdir(dataDir);
			expect(await fsp.readFile(path.join(dataDir, dir, 'upload.csv'), 'utf8')).toBe(CSV);
		} finally {
			await fsp.rm(dataDir, { recursive: true, force: true });
		}
	});
});
