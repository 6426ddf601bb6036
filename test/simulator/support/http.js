'use strict';

const http = require('node:http');

const KEY = 'sim-key-acme';
const TERMINAL = ['Completed', 'Failed'];

function parseJson(text) {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

async function call(sim, route, body = {}, key = KEY) {
	const headers = { 'Content-Type': 'application/json' };
	if (key) headers.Authorization = `ApiKey ${key}`;
	const res = await fetch(`${sim.baseUrl}${route}`, {
		method: 'POST',
		headers,
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	return {
		status: res.status,
		headers: Object.fromEntries(res.headers),
		text,
		body: parseJson(text),
	};
}

/** node:http with full control of the headers; `body` may be an array of chunks. */
function request(url, { method = 'GET', headers = {}, body, omit = [] } = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, headers, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (chunk) => chunks.push(chunk));
			res.on('error', reject);
			res.on('end', () =>
				resolve({
					status: res.statusCode,
					headers: res.headers,
					text: Buffer.concat(chunks).toString('utf8'),
				}),
			);
		});
		req.on('error', reject);
		for (const name of omit) req.removeHeader(name);
		if (Array.isArray(body)) {
			for (const chunk of body) req.write(chunk);
			req.end();
		} else {
			req.end(body);
		}
	});
}

/** Resolves with the error a request ends in, or rejects when it gets a response. */
function requestError(url, options) {
	return request(url, options).then(
		(res) => {
			throw new Error(`expected a connection error, got HTTP ${res.status}`);
		},
		(error) => error,
	);
}

async function upload(url, body, { contentType = 'text/csv', headers = {} } = {}) {
	const res = await fetch(url, {
		method: 'PUT',
		headers: { 'Content-Type': contentType, ...headers },
		body,
	});
	const text = await res.text();
	return { status: res.status, headers: Object.fromEntries(res.headers), text };
}

async function download(url) {
	const res = await fetch(url);
	const text = await res.text();
	return {
		status: res.status,
		headers: Object.fromEntries(res.headers),
		text,
		body: parseJson(text),
	};
}

function s3ErrorXml(code, message, requestId) {
	return (
		'<?xml version="1.0" encoding="UTF-8"?>\n' +
		`<Error><Code>${code}</Code><Message>${message}</Message>` +
		`<RequestId>${requestId}</RequestId></Error>`
	);
}

function expectS3Error(res, status, code, message) {
	const requestId = res.headers['x-amz-request-id'];
	expect(requestId).toMatch(/^[0-9A-F]{16}$/);
	expect({ status: res.status, contentType: res.headers['content-type'], text: res.text }).toEqual({
		status,
		contentType: 'application/xml',
		text: s3ErrorXml(code, message, requestId),
	});
}

async function addImport(sim, body, key = KEY) {
	const res = await call(sim, '/import/add', body, key);
	if (res.body?.type !== 'success') throw new Error(`add failed: ${res.text}`);
	return { url: res.body.url, importId: res.body.importData.importId };
}

async function getLog(sim, importId, key = KEY) {
	const res = await call(sim, '/import/get', { importId }, key);
	if (res.body?.type !== 'success') throw new Error(`get failed: ${res.text}`);
	return res.body.log;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForStatus(sim, importId, statuses = TERMINAL, timeoutMs = 5000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const log = await getLog(sim, importId);
		if (statuses.includes(log.importStatus)) return log;
		if (Date.now() > deadline) throw new Error(`import stayed ${log.importStatus}`);
		await sleep(5);
	}
}

async function runImport(sim, body, csv) {
	const { url, importId } = await addImport(sim, body);
	const res = await upload(url, csv);
	if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.text}`);
	return { importId, log: await waitForStatus(sim, importId) };
}

function withQuery(url, changes) {
	const u = new URL(url);
	for (const [name, value] of Object.entries(changes)) u.searchParams.set(name, value);
	return u.toString();
}

function tamperSignature(url) {
	const signature = new URL(url).searchParams.get('X-Amz-Signature');
	const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
	return withQuery(url, { 'X-Amz-Signature': flipped });
}

module.exports = {
	KEY,
	call,
	request,
	requestError,
	upload,
	download,
	expectS3Error,
	addImport,
	getLog,
	sleep,
	waitForStatus,
	runImport,
	withQuery,
	tamperSignature,
};
