'use strict';

const { startSimulator } = require('./index');
const {
	KEY,
	call,
	request,
	requestError,
	upload,
	download,
	expectS3Error,
	addImport,
	getLog,
	runImport,
} = require('./support/http');

const CSV = 'name,email\nAcme,info@acme.example\nGlobex,not-mail\n';
const jsonHeaders = { Authorization: `ApiKey ${KEY}`, 'Content-Type': 'application/json' };

let sim;

beforeAll(async () => {
	sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5 });
});

afterAll(() => sim.stop());

beforeEach(() => sim.reset());

async function listIds() {
	return (await call(sim, '/import/list')).body.imports.map((i) => i.importId);
}

async function errorFileUrl() {
	const { importId } = await runImport(sim, { entity: 'Account' }, CSV);
	return (await call(sim, '/import/errors', { importId })).body.records[0].signedUrl;
}

describe('throttle', () => {
	it('answers an API route with 429 and Retry-After', async () => {
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: 2 });
		const res = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([res.status, res.headers['retry-after'], res.text]).toEqual([
			429,
			'2',
			'{"message":"Too Many Requests"}',
		]);
	});

	it('sends Retry-After: 1 by default', async () => {
		sim.inject({ route: '/import/list', kind: 'throttle' });
		const res = await call(sim, '/import/list');
		expect([res.status, res.headers['retry-after']]).toEqual([429, '1']);
	});

	it('answers an S3 upload with 503 SlowDown', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'throttle' });
		expectS3Error(await upload(url, CSV), 503, 'SlowDown', 'Please reduce your request rate.');
		expect((await getLog(sim, importId)).importStatus).toBe('New');
	});
});

describe('serverError', () => {
	it('answers an API route with 500 and Terros-style JSON', async () => {
		sim.inject({ route: '/import/add', kind: 'serverError' });
		const res = await call(sim, '/import/add', { entity: 'Account' });
		expect([res.status, res.headers['content-type'], res.text]).toEqual([
			500,
			'application/json',
			'{"message":"Internal server error"}',
		]);
		expect(await listIds()).toEqual([]);
	});

	it('answers an S3 upload with 500 InternalError XML', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'serverError' });
		expectS3Error(
			await upload(url, CSV),
			500,
			'InternalError',
			'We encountered an internal error. Please try again.',
		);
		expect((await getLog(sim, importId)).importStatus).toBe('New');
		expect((await upload(url, CSV)).status).toBe(200);
	});

	it('answers an S3 error-file download with 500 InternalError XML', async () => {
		const url = await errorFileUrl();
		sim.inject({ route: 's3:get', kind: 'serverError' });
		expectS3Error(
			await download(url),
			500,
			'InternalError',
			'We encountered an internal error. Please try again.',
		);
		expect((await download(url)).status).toBe(200);
	});
});

describe('unavailable', () => {
	it('answers an API route with 503', async () => {
		sim.inject({ route: '/user/get', kind: 'unavailable' });
		const res = await call(sim, '/user/get');
		expect([res.status, res.text]).toEqual([503, '{"message":"Service Unavailable"}']);
	});

	it('answers an S3 upload with 503 ServiceUnavailable', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'unavailable' });
		expectS3Error(
			await upload(url, CSV),
			503,
			'ServiceUnavailable',
			'Service is unable to handle request.',
		);
	});
});

describe('envelope', () => {
	it('answers 200 with a Server error envelope by default', async () => {
		sim.inject({ route: '/import/get', kind: 'envelope' });
		const res = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([res.status, res.text]).toEqual([
			200,
			'{"type":"error","error":"Server","message":"Internal server error"}',
		]);
	});

	it('answers with the given error type, message and retry flag', async () => {
		sim.inject({
			route: '/import/add',
			kind: 'envelope',
			error: 'Timeout',
			message: 'The request timed out',
			retry: true,
		});
		const res = await call(sim, '/import/add', { entity: 'Account' });
		expect([res.status, res.body]).toEqual([
			200,
			{ type: 'error', error: 'Timeout', message: 'The request timed out', retry: true },
		]);
		expect(await listIds()).toEqual([]);
	});

	it('sends retry: false when asked', async () => {
		sim.inject({ route: '/import/list', kind: 'envelope', error: 'NotAuthorized', retry: false });
		const res = await call(sim, '/import/list');
		expect(res.body).toEqual({
			type: 'error',
			error: 'NotAuthorized',
			message: 'Internal server error',
			retry: false,
		});
	});
});

describe('malformed responses', () => {
	it('answers html with a 502 HTML page', async () => {
		sim.inject({ route: '/import/get', kind: 'html' });
		const res = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([res.status, res.headers['content-type'], res.text]).toEqual([
			502,
			'text/html',
			'<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
		]);
	});

	it('answers html with the given status', async () => {
		sim.inject({ route: '/import/get', kind: 'html', status: 504 });
		const res = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([res.status, res.headers['content-type']]).toEqual([504, 'text/html']);
	});

	it('answers empty with a 200 JSON response of 0 bytes', async () => {
		sim.inject({ route: '/import/list', kind: 'empty' });
		const res = await call(sim, '/import/list');
		expect([
			res.status,
			res.headers['content-type'],
			res.headers['content-length'],
			res.text,
		]).toEqual([200, 'application/json', '0', '']);
	});

	it('answers empty with the given status', async () => {
		sim.inject({ route: '/import/list', kind: 'empty', status: 502 });
		const res = await call(sim, '/import/list');
		expect([res.status, res.text]).toEqual([502, '']);
	});

	it('answers truncated with a cut-off JSON body', async () => {
		sim.inject({ route: '/import/get', kind: 'truncated' });
		const res = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([res.status, res.headers['content-type'], res.text]).toEqual([
			200,
			'application/json',
			'{"type":"success","log":{"importId":"Imp',
		]);
		expect(() => JSON.parse(res.text)).toThrow(SyntaxError);
	});
});

describe('connection faults', () => {
	it('drop closes the socket before answering and creates nothing', async () => {
		sim.inject({ route: '/import/add', kind: 'drop' });
		const error = await requestError(`${sim.baseUrl}/import/add`, {
			method: 'POST',
			headers: jsonHeaders,
			body: '{"entity":"Account"}',
		});
		expect(error.code).toBe('ECONNRESET');
		expect(await listIds()).toEqual([]);
	});

	it('drop on s3:put closes the upload connection and stores nothing', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'drop' });
		const error = await requestError(url, {
			method: 'PUT',
			headers: { 'Content-Type': 'text/csv', 'Content-Length': String(CSV.length) },
			body: CSV,
		});
		expect(error.code).toBe('ECONNRESET');
		expect((await getLog(sim, importId)).importStatus).toBe('New');
	});

	it('dropAfter on /import/add creates the import, then closes the socket', async () => {
		sim.inject({ route: '/import/add', kind: 'dropAfter' });
		const error = await requestError(`${sim.baseUrl}/import/add`, {
			method: 'POST',
			headers: jsonHeaders,
			body: '{"entity":"Account","name":"lost answer"}',
		});
		expect(error.code).toBe('ECONNRESET');
		const list = await call(sim, '/import/list');
		expect(list.body.imports).toEqual([
			expect.objectContaining({ entity: 'Account', name: 'lost answer', importStatus: 'New' }),
		]);
	});

	it('dropAfter still answers a request it refuses', async () => {
		sim.inject({ route: '/import/add', kind: 'dropAfter' });
		const res = await call(sim, '/import/add', { entity: 'Invoice' });
		expect(res.body.error).toBe('InvalidRequest');
	});

	it('slow answers normally after delayMs', async () => {
		sim.inject({ route: '/user/get', kind: 'slow', delayMs: 150 });
		const started = Date.now();
		const res = await call(sim, '/user/get');
		expect(Date.now() - started).toBeGreaterThanOrEqual(150);
		expect([res.status, res.body.type]).toEqual([200, 'success']);
	});

	it('slow on s3:put delays the upload, which then succeeds', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'slow', delayMs: 100 });
		const started = Date.now();
		const res = await upload(url, CSV);
		expect(Date.now() - started).toBeGreaterThanOrEqual(100);
		expect(res.status).toBe(200);
	});

	it('requestTimeout on s3:put answers 400 RequestTimeout and stores nothing', async () => {
		const { url, importId } = await addImport(sim, { entity: 'Account' });
		sim.inject({ route: 's3:put', kind: 'requestTimeout' });
		expectS3Error(
			await upload(url, CSV),
			400,
			'RequestTimeout',
			'Your socket connection to the server was not read from or written to within the timeout period.',
		);
		expect((await getLog(sim, importId)).importStatus).toBe('New');
		expect((await upload(url, CSV)).status).toBe(200);
	});
});

describe('fault scheduling', () => {
	it('hits exactly `times` requests, then stops', async () => {
		const fault = sim.inject({ route: '/import/list', kind: 'throttle', times: 3 });
		const statuses = [];
		for (let i = 0; i < 5; i++) statuses.push((await call(sim, '/import/list')).status);
		expect(statuses).toEqual([429, 429, 429, 200, 200]);
		expect(fault.hits).toBe(3);
		expect(sim.faults).toEqual([]);
	});

	it('hits one request by default', async () => {
		sim.inject({ route: '/import/list', kind: 'unavailable' });
		const first = await call(sim, '/import/list');
		const second = await call(sim, '/import/list');
		expect([first.status, second.status]).toEqual([503, 200]);
	});

	it('hits every request with times: 0 until reset', async () => {
		const fault = sim.inject({ route: '/import/list', kind: 'serverError', times: 0 });
		const statuses = [];
		for (let i = 0; i < 6; i++) statuses.push((await call(sim, '/import/list')).status);
		expect(statuses).toEqual([500, 500, 500, 500, 500, 500]);
		expect(fault.hits).toBe(6);
		sim.reset();
		expect((await call(sim, '/import/list')).status).toBe(200);
	});

	it('hits only its own route', async () => {
		sim.inject({ route: '/import/get', kind: 'throttle' });
		expect((await call(sim, '/import/list')).status).toBe(200);
		expect((await call(sim, '/user/get')).status).toBe(200);
		expect((await call(sim, '/import/get', { importId: 'Import:x' })).status).toBe(429);
	});

	it('applies faults on one route in the order they were injected', async () => {
		sim.inject({ route: '/import/list', kind: 'throttle' });
		sim.inject({ route: '/import/list', kind: 'unavailable', times: 2 });
		sim.inject({ route: '/import/list', kind: 'serverError' });
		const statuses = [];
		for (let i = 0; i < 5; i++) statuses.push((await call(sim, '/import/list')).status);
		expect(statuses).toEqual([429, 503, 503, 500, 200]);
	});

	it('lets `skip` matching requests through before it hits', async () => {
		const fault = sim.inject({ route: '/import/list', kind: 'throttle', skip: 2, times: 1 });
		const statuses = [];
		for (let i = 0; i < 4; i++) statuses.push((await call(sim, '/import/list')).status);
		expect(statuses).toEqual([200, 200, 429, 200]);
		expect(fault.hits).toBe(1);
	});

	it('answers an S3 error of any code with s3Error', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		sim.inject({
			route: 's3:put',
			kind: 's3Error',
			status: 409,
			code: 'Conflict',
			message: 'Busy',
		});
		expectS3Error(await upload(url, CSV), 409, 'Conflict', 'Busy');
		expect((await upload(url, CSV)).status).toBe(200);
	});

	it('reads an upload body slowly with slowRead', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		const body = 'name\n' + 'x\n'.repeat(50_000);
		sim.inject({ route: 's3:put', kind: 'slowRead', bytesPerSecond: 200_000 });
		const started = Date.now();
		expect((await upload(url, body)).status).toBe(200);
		// 100 kB at 200 kB/s: about half a second, against a few milliseconds unthrottled.
		expect(Date.now() - started).toBeGreaterThanOrEqual(350);
	});

	it('keeps s3:put and s3:get faults apart', async () => {
		const url = await errorFileUrl();
		sim.inject({ route: 's3:put', kind: 'serverError' });
		expect((await download(url)).status).toBe(200);
		expect(sim.faults).toHaveLength(1);
	});
});

describe('control endpoint', () => {
	const control = (path, body, method = 'POST') =>
		request(`${sim.baseUrl}/_simulator/${path}`, {
			method,
			headers: { 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});

	it('injects one fault with POST /_simulator/faults', async () => {
		const res = await control('faults', { route: '/import/get', kind: 'throttle', retryAfter: 7 });
		expect([res.status, res.text]).toEqual([200, '{"faults":1}']);
		const get = await call(sim, '/import/get', { importId: 'Import:x' });
		expect([get.status, get.headers['retry-after']]).toEqual([429, '7']);
	});

	it('injects a list of faults and answers how many are queued', async () => {
		await control('faults', { route: '/user/get', kind: 'unavailable' });
		const res = await control('faults', [
			{ route: '/import/list', kind: 'envelope', error: 'Timeout', retry: true },
			{ route: 's3:put', kind: 'requestTimeout', times: 2 },
		]);
		expect([res.status, JSON.parse(res.text)]).toEqual([200, { faults: 3 }]);
		expect((await call(sim, '/import/list')).body).toEqual({
			type: 'error',
			error: 'Timeout',
			message: 'Internal server error',
			retry: true,
		});
		const { url } = await addImport(sim, { entity: 'Account' });
		expect((await upload(url, CSV)).status).toBe(400);
		expect((await upload(url, CSV)).status).toBe(400);
		expect((await upload(url, CSV)).status).toBe(200);
	});

	it('needs no API key', async () => {
		const res = await control('faults', { route: '/import/list', kind: 'empty' });
		expect(res.status).toBe(200);
		expect(sim.requests.at(-1).headers).not.toHaveProperty('authorization');
	});

	it('forgets imports and faults with POST /_simulator/reset', async () => {
		await addImport(sim, { entity: 'Account' });
		sim.inject({ route: '/import/list', kind: 'throttle' });
		const res = await control('reset');
		expect([res.status, res.text]).toEqual([200, '{"reset":true}']);
		expect(await call(sim, '/import/list')).toMatchObject({ status: 200, body: { imports: [] } });
	});

	it('reports stats with GET /_simulator/stats', async () => {
		await addImport(sim, { entity: 'Account' });
		await addImport(sim, { entity: 'Contact' });
		const res = await request(`${sim.baseUrl}/_simulator/stats`);
		expect([res.status, JSON.parse(res.text)]).toEqual([
			200,
			{
				stats: { api: { inFlight: 1, peakInFlight: 1 }, s3: { inFlight: 0, peakInFlight: 0 } },
				imports: 2,
			},
		]);
	});

	it('answers an unknown control path with 404', async () => {
		const res = await control('explode', {});
		expect([res.status, res.text]).toEqual([404, '{"message":"Not Found"}']);
	});
});

describe('recording', () => {
	it('records every request with server, method, path, headers and status', async () => {
		const { url } = await addImport(sim, { entity: 'Account' });
		await upload(url, CSV);
		const [add, put] = sim.requests;
		expect(sim.requests).toHaveLength(2);
		expect(add).toEqual({
			server: 'api',
			method: 'POST',
			path: '/import/add',
			url: '/import/add',
			headers: expect.objectContaining({ authorization: `ApiKey ${KEY}` }),
			at: expect.any(Number),
			status: 200,
		});
		expect(put).toMatchObject({ server: 's3', method: 'PUT', status: 200 });
		expect(put.url).toBe(url.slice(sim.s3Url.length));
		expect(put.path).toBe(new URL(url).pathname);
		expect(put.headers).toMatchObject({
			'content-type': 'text/csv',
			'content-length': String(CSV.length),
		});
		expect(put.headers).not.toHaveProperty('authorization');
	});

	it('records the status of fault answers', async () => {
		sim.inject({ route: '/import/list', kind: 'throttle' });
		await call(sim, '/import/list');
		expect(sim.requests.map((r) => r.status)).toEqual([429]);
	});

	it('tracks the peak number of concurrent S3 requests', async () => {
		const imports = await Promise.all([1, 2, 3].map(() => addImport(sim, { entity: 'Account' })));
		sim.inject({ route: 's3:put', kind: 'slow', delayMs: 150, times: 3 });
		const results = await Promise.all(imports.map((i) => upload(i.url, CSV)));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
		expect(sim.stats.s3).toEqual({ inFlight: 0, peakInFlight: 3 });
	});

	it('tracks the peak number of concurrent API requests', async () => {
		sim.inject({ route: '/user/get', kind: 'slow', delayMs: 150, times: 4 });
		await Promise.all([1, 2, 3, 4].map(() => call(sim, '/user/get')));
		expect(sim.stats.api).toEqual({ inFlight: 0, peakInFlight: 4 });
	});
});
