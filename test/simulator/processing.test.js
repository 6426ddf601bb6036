'use strict';

const crypto = require('node:crypto');

const { startSimulator } = require('./index');
const {
	call,
	upload,
	download,
	expectS3Error,
	addImport,
	getLog,
	sleep,
	waitForStatus,
	runImport,
	tamperSignature,
} = require('./support/http');

const BOM = '\uFEFF';
const crlf = (...lines) => `${lines.join('\r\n')}\r\n`;

const CONTACTS =
	BOM +
	crlf(
		'firstName,lastName,email,phone,accountName',
		'Ada,Lovelace,ada@example.com,+44 20 7946 0000,"Analytical Engines, Ltd."',
		'"Grace ""Amazing""",Hopper,grace@example.com,,"Navy Yard,\r\nWashington DC"',
		'Alan,Turing,"alan""@bletchley",,Bletchley Park',
		',Nobody,,,',
		'Edsger,Dijkstra,edsger@example.com,"555,\r\n0100",Eindhoven',
		'Too,Few',
		'',
		'Barbara,Liskov,,+1 (617) 253-1000,MIT',
		'Ken,Thompson,ken@,nope,"Bell Labs"',
	);

const CONTACT_ERRORS = [
	{
		row: 3,
		line: 5,
		message: '"alan"@bletchley" is not a valid email address',
		errors: [{ column: 'email', message: '"alan"@bletchley" is not a valid email address' }],
	},
	{
		row: 4,
		line: 6,
		message: 'firstName is required',
		errors: [{ column: 'firstName', message: 'firstName is required' }],
	},
	{
		row: 5,
		line: 7,
		message: '"555,\r\n0100" is not a valid phone number',
		errors: [{ column: 'phone', message: '"555,\r\n0100" is not a valid phone number' }],
	},
	{
		row: 6,
		line: 9,
		message: 'expected 5 fields, found 2',
		errors: [{ column: null, message: 'expected 5 fields, found 2' }],
	},
	{
		row: 8,
		line: 12,
		message: '"ken@" is not a valid email address; "nope" is not a valid phone number',
		errors: [
			{ column: 'email', message: '"ken@" is not a valid email address' },
			{ column: 'phone', message: '"nope" is not a valid phone number' },
		],
	},
];

let sim;

beforeAll(async () => {
	sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5 });
});

afterAll(() => sim.stop());

async function errorRecords(target, importId) {
	const res = await call(target, '/import/errors', { importId });
	expect(res.body.type).toBe('success');
	return res.body.records;
}

const failedLog = (importId, entity, reason) => ({
	importId,
	entity,
	importStatus: 'Failed',
	successes: 0,
	errors: 0,
	totalMessages: 0,
	completedAt: expect.any(Number),
	reason,
});

describe('status walk', () => {
	const STEP_MS = 100;
	let slow;

	beforeAll(async () => {
		const stepMs = Object.fromEntries(
			['Queued', 'Processing', 'PostProcessing', 'Completed', 'Failed'].map((s) => [s, STEP_MS]),
		);
		slow = await startSimulator({ apiPort: 0, s3Port: 0, stepMs });
	});

	afterAll(() => slow.stop());

	async function walk(csv) {
		const { url, importId } = await addImport(slow, { entity: 'Account' });
		const seen = [(await getLog(slow, importId)).importStatus];
		const uploadedAt = Date.now();
		expect((await upload(url, csv)).status).toBe(200);
		for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
			const log = await getLog(slow, importId);
			if (log.importStatus !== seen.at(-1)) seen.push(log.importStatus);
			if (['Completed', 'Failed'].includes(log.importStatus)) {
				return { seen, log, elapsed: Date.now() - uploadedAt };
			}
			if (log.completedAt !== null) throw new Error(`completedAt set while ${log.importStatus}`);
			await sleep(5);
		}
		throw new Error(`import stuck after ${seen.join(' → ')}`);
	}

	it('walks New → Uploaded → Queued → Processing → PostProcessing → Completed', async () => {
		const { seen, log, elapsed } = await walk('name\nAcme\n');
		expect(seen).toEqual([
			'New',
			'Uploaded',
			'Queued',
			'Processing',
			'PostProcessing',
			'Completed',
		]);
		expect(elapsed).toBeGreaterThanOrEqual(4 * STEP_MS - 5);
		expect(log.completedAt).toBeGreaterThan(Date.now() - elapsed);
	});

	it('walks New → Uploaded → Queued → Processing → Failed for a file it cannot read', async () => {
		const { seen, log } = await walk('name\n');
		expect(seen).toEqual(['New', 'Uploaded', 'Queued', 'Processing', 'Failed']);
		expect(log.reason).toBe('The file has a header but no data rows');
	});
});

describe('CSV processing', () => {
	it('counts successes and errors of a CSV with BOM, CRLF and quoted commas, quotes and newlines', async () => {
		const { importId, log } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		expect(log).toEqual({
			importId,
			entity: 'Contact',
			importStatus: 'Completed',
			successes: 3,
			errors: 5,
			totalMessages: 8,
			completedAt: expect.any(Number),
		});
	});

	it('lists one error record per failed row, in row order', async () => {
		const { importId } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const records = await errorRecords(sim, importId);
		expect(records.map((r) => r.key)).toEqual(
			[3, 4, 5, 6, 8].map((n) => `imports/${importId}/errors/row-${n}.json`),
		);
	});

	it('serves each error file as JSON with the row, line and message', async () => {
		const { importId } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const records = await errorRecords(sim, importId);
		const files = await Promise.all(records.map((r) => download(r.signedUrl)));
		for (const file of files) {
			expect(file.status).toBe(200);
			expect(file.headers['content-type']).toBe('application/json');
			expect(file.headers.etag).toBe(
				`"${crypto.createHash('md5').update(file.text).digest('hex')}"`,
			);
		}
		expect(files.map((f) => f.body)).toEqual(CONTACT_ERRORS);
	});

	it('signs error-file URLs for GET on the S3 server for 12 hours', async () => {
		const { importId } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const [record] = await errorRecords(sim, importId);
		const url = new URL(record.signedUrl);
		expect(url.origin).toBe(sim.s3Url);
		expect(decodeURIComponent(url.pathname)).toBe(`/terros-imports/${record.key}`);
		expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
		expect(url.searchParams.get('X-Amz-Expires')).toBe('43200');
		expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
	});

	it('refuses an error-file URL with a tampered signature or path', async () => {
		const { importId } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const [first, second] = await errorRecords(sim, importId);
		const mismatch =
			'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
		const swapped = new URL(first.signedUrl);
		swapped.pathname = new URL(second.signedUrl).pathname;
		expectS3Error(
			await download(tamperSignature(first.signedUrl)),
			403,
			'SignatureDoesNotMatch',
			mismatch,
		);
		expectS3Error(await download(swapped.toString()), 403, 'SignatureDoesNotMatch', mismatch);
	});

	it('refuses an error-file download that sends an Authorization header', async () => {
		const { importId } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const [record] = await errorRecords(sim, importId);
		const res = await fetch(record.signedUrl, {
			headers: { Authorization: 'ApiKey sim-key-acme' },
		});
		expectS3Error(
			{ status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() },
			400,
			'InvalidArgument',
			'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
		);
	});

	it('returns no error records for an import without errors', async () => {
		const { importId, log } = await runImport(sim, { entity: 'Account' }, 'name\nAcme\n');
		expect(log).toMatchObject({
			importStatus: 'Completed',
			successes: 1,
			errors: 0,
			totalMessages: 1,
		});
		expect(await errorRecords(sim, importId)).toEqual([]);
	});

	it('counts every row of a file larger than one read chunk, with multi-byte characters', async () => {
		const rows = Array.from(
			{ length: 25_000 },
			(_, i) => `Zoë ${i},Ångström,zoë${i}@example.com,+1 555 0100,"Café, ${i}"`,
		);
		const csv = crlf('firstName,lastName,email,phone,accountName', ...rows, 'Last,Row,nope,,');
		expect(Buffer.byteLength(csv)).toBeGreaterThan(1.5 * 2 ** 20);
		const { importId, log } = await runImport(sim, { entity: 'Contact' }, csv);
		expect(log).toMatchObject({ importStatus: 'Completed', successes: 25_000, errors: 1 });
		const [record] = await errorRecords(sim, importId);
		expect((await download(record.signedUrl)).body).toMatchObject({
			row: 25_001,
			line: 25_002,
			message: '"nope" is not a valid email address',
		});
	});

	it.each([
		[
			'Account',
			'name,address,email,phone,ownerEmail',
			'Acme,1 Main St,info@acme.example,+1 555 0100,owner@acme.example',
			'Globex,,,,boss',
			'"boss" is not a valid email address',
		],
		[
			'Contact',
			'firstName,lastName,email',
			'Ada,Lovelace,ada@example.com',
			'Ada,,',
			'lastName is required',
		],
		[
			'CalendarEvent',
			'title,startTime,endTime,ownerEmail',
			'Kickoff,2026-03-01T09:00:00Z,2026-03-01T10:00:00Z,rep@acme.example',
			'Kickoff,2026-03-01T10:00:00Z,2026-03-01T09:00:00Z,rep@acme.example',
			'endTime is before startTime',
		],
		[
			'CalendarEvent',
			'title,startTime,ownerEmail',
			'Kickoff,2026-03-01,rep@acme.example',
			'Kickoff,tomorrow,rep@acme.example',
			'"tomorrow" is not a date (use ISO 8601, e.g. 2026-03-01)',
		],
		[
			'User',
			'email,firstName,lastName,role',
			'rep@acme.example,Rita,Rep,Rep',
			'boss@acme.example,Bob,Boss,Owner',
			'"Owner" must be one of Rep, Manager, Admin',
		],
		[
			'Task',
			'title,assigneeEmail,dueDate',
			'Call back,rep@acme.example,2026-03-01',
			'Call back,rep@acme.example,soon',
			'"soon" is not a date (use ISO 8601, e.g. 2026-03-01)',
		],
		[
			'Recruit',
			'firstName,lastName,email,phone',
			'Sam,Seeker,,+1 555 0100',
			'Sam,Seeker,,',
			'a recruit needs an email or a phone',
		],
	])('validates %s rows (%s)', async (entity, header, good, bad, message) => {
		const { importId, log } = await runImport(sim, { entity }, crlf(header, good, bad));
		expect(log).toMatchObject({
			importStatus: 'Completed',
			successes: 1,
			errors: 1,
			totalMessages: 2,
		});
		const [record] = await errorRecords(sim, importId);
		expect((await download(record.signedUrl)).body).toMatchObject({ row: 2, line: 3, message });
	});
});

describe('columnMapping', () => {
	const csv = BOM + crlf('Company Name,E-mail', 'Acme,info@acme.example', 'Globex,not-mail');

	it('reads renamed columns as the Terros headers', async () => {
		const columnMapping = { 'Company Name': 'name', 'E-mail': 'email', Unused: 'phone' };
		const { importId, log } = await runImport(sim, { entity: 'Account', columnMapping }, csv);
		expect(log).toMatchObject({
			importStatus: 'Completed',
			successes: 1,
			errors: 1,
			totalMessages: 2,
		});
		const [record] = await errorRecords(sim, importId);
		expect((await download(record.signedUrl)).body.errors).toEqual([
			{ column: 'email', message: '"not-mail" is not a valid email address' },
		]);
	});

	it('fails the same file without the mapping', async () => {
		const { importId, log } = await runImport(sim, { entity: 'Account' }, csv);
		expect(log).toEqual(
			failedLog(importId, 'Account', 'Missing required column(s) for Account: name'),
		);
	});
});

describe('files that fail', () => {
	const invalidUtf8 = Buffer.concat([
		Buffer.from('name\nZo'),
		Buffer.from([0xeb]),
		Buffer.from('\n'),
	]);
	it.each([
		['empty', 'Account', '', 'The file is empty'],
		['only blank lines', 'Account', '\r\n\r\n', 'The file is empty'],
		['header-only', 'Account', 'name,email\r\n', 'The file has a header but no data rows'],
		['header and blank lines', 'Account', 'name\n\n\n', 'The file has a header but no data rows'],
		[
			'binary (NUL bytes)',
			'Account',
			Buffer.from('name\nAcme\0Corp\n'),
			'The file is not a text CSV file (it contains binary data)',
		],
		[
			'UTF-16',
			'Account',
			Buffer.from(`${BOM}name\nAcme\n`, 'utf16le'),
			'The file is not a text CSV file (it contains binary data)',
		],
		[
			'a ZIP archive',
			'Account',
			Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]),
			'The file is not a text CSV file (it contains binary data)',
		],
		['invalid UTF-8 (Latin-1)', 'Account', invalidUtf8, 'The file is not valid UTF-8 text'],
		[
			'invalid UTF-8 after rows with errors',
			'Contact',
			Buffer.concat([
				Buffer.from('firstName,lastName\nAda,\n,Hopper\n'),
				Buffer.from([0xc3, 0x28]),
			]),
			'The file is not valid UTF-8 text',
		],
		[
			'missing required columns',
			'User',
			crlf('email,name', 'rep@acme.example,Rita Rep'),
			'Missing required column(s) for User: firstName, lastName',
		],
		[
			'an unterminated quoted field',
			'Account',
			'name,email\n"Acme,info@acme.example\nGlobex,x@globex.example\n',
			'The file could not be parsed as CSV: unterminated quoted field starting on line 2',
		],
	])('fails a file that is %s with its reason', async (_label, entity, body, reason) => {
		const { importId, log } = await runImport(sim, { entity }, body);
		expect(log).toEqual(failedLog(importId, entity, reason));
		expect(await errorRecords(sim, importId)).toEqual([]);
	});
});

describe('stuck fault', () => {
	it.each(['New', 'Uploaded', 'Queued', 'Processing', 'PostProcessing'])(
		'keeps an import at %s',
		async (status) => {
			sim.inject({ route: '/import/add', kind: 'stuck', status });
			const { url, importId } = await addImport(sim, { entity: 'Account' });
			expect((await upload(url, 'name\nAcme\n')).status).toBe(200);
			await sleep(150);
			expect(await getLog(sim, importId)).toMatchObject({
				importStatus: status,
				completedAt: null,
			});
		},
	);

	it('keeps only the next import stuck', async () => {
		sim.inject({ route: '/import/add', kind: 'stuck', status: 'Queued' });
		const stuck = await addImport(sim, { entity: 'Account' });
		const { log } = await runImport(sim, { entity: 'Account' }, 'name\nAcme\n');
		expect(log.importStatus).toBe('Completed');
		expect((await upload(stuck.url, 'name\nAcme\n')).status).toBe(200);
		await sleep(100);
		expect((await getLog(sim, stuck.importId)).importStatus).toBe('Queued');
	});
});

describe('cleanup', () => {
	it.each(['Uploaded', 'Queued', 'Processing', 'PostProcessing'])(
		'is refused with InvalidRequest while the import is %s',
		async (status) => {
			sim.inject({ route: '/import/add', kind: 'stuck', status });
			const { url, importId } = await addImport(sim, { entity: 'Account' });
			await upload(url, 'name\nAcme\n');
			await waitForStatus(sim, importId, [status]);
			const res = await call(sim, '/import/cleanup', { importId });
			expect([res.status, res.body]).toEqual([
				200,
				{
					type: 'error',
					error: 'InvalidRequest',
					message: `Import ${importId} is still in progress (${status}); wait until it is Completed or Failed`,
				},
			]);
		},
	);

	it('removes the error files of a Completed import', async () => {
		const { importId, log } = await runImport(sim, { entity: 'Contact' }, CONTACTS);
		const [record] = await errorRecords(sim, importId);
		expect((await download(record.signedUrl)).status).toBe(200);
		const res = await call(sim, '/import/cleanup', { importId });
		expect([res.status, res.body]).toEqual([200, { type: 'success', importId }]);
		expect(await errorRecords(sim, importId)).toEqual([]);
		expectS3Error(
			await download(record.signedUrl),
			404,
			'NoSuchKey',
			'The specified key does not exist.',
		);
		expect(await getLog(sim, importId)).toEqual(log);
		const list = await call(sim, '/import/list');
		expect(list.body.imports.map((i) => i.importId)).toContain(importId);
	});

	it('succeeds for a Failed import', async () => {
		const { importId } = await runImport(sim, { entity: 'Account' }, '');
		const res = await call(sim, '/import/cleanup', { importId });
		expect(res.body).toEqual({ type: 'success', importId });
	});

	it('answers InvalidRequest for an unknown import', async () => {
		const res = await call(sim, '/import/cleanup', { importId: 'Import:000000000000' });
		expect(res.body).toEqual({
			type: 'error',
			error: 'InvalidRequest',
			message: 'Import not found: Import:000000000000',
		});
	});
});

describe('error-file lifetime', () => {
	let short;

	beforeAll(async () => {
		short = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, errorUrlTtlSec: 1 });
	});

	afterAll(() => short.stop());

	it('signs error-file URLs for errorUrlTtlSec and refuses them after', async () => {
		const { importId } = await runImport(short, { entity: 'Contact' }, CONTACTS);
		const [record] = await errorRecords(short, importId);
		expect(new URL(record.signedUrl).searchParams.get('X-Amz-Expires')).toBe('1');
		await sleep(1100);
		expectS3Error(await download(record.signedUrl), 403, 'AccessDenied', 'Request has expired');
	});
});

describe('s3GetLatencyMs', () => {
	let laggy;

	beforeAll(async () => {
		laggy = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, s3GetLatencyMs: [100, 120] });
	});

	afterAll(() => laggy.stop());

	it('delays every error-file download by the given latency', async () => {
		const { importId } = await runImport(laggy, { entity: 'Contact' }, CONTACTS);
		const records = await errorRecords(laggy, importId);
		const started = Date.now();
		const files = await Promise.all(records.map((r) => download(r.signedUrl)));
		expect(Date.now() - started).toBeGreaterThanOrEqual(100);
		expect(files.map((f) => f.status)).toEqual([200, 200, 200, 200, 200]);
		expect(laggy.stats.s3.peakInFlight).toBe(5);
	});
});

describe('stop', () => {
	it('walks no import further once the simulator has stopped', async () => {
		const own = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 0 });
		const rows = Array.from({ length: 100_000 }, (_, i) => `Account ${i},a${i}@acme.example`);
		const { url, importId } = await addImport(own, { entity: 'Account' });
		expect((await upload(url, crlf('name,email', ...rows))).status).toBe(200);
		const record = own.imports.get(importId);
		while (record.importStatus !== 'Processing') await sleep(1);
		await own.stop();
		await sleep(200);
		expect([record.importStatus, own.timers.size]).toEqual(['Processing', 0]);
	});
});
