'use strict';

/**
 * Shared set-up for the reliability matrix: the node test helpers (simulator, engine runs,
 * retries in milliseconds) plus what the matrix needs on top: request counts, open sockets,
 * files on disk and the compiled node's constants.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const helpers = require('../node/helpers');

const DIST = path.resolve(__dirname, '../../dist/nodes/TerrosImport');
const constants = require(path.join(DIST, 'helpers/constants.js'));
const retry = require(path.join(DIST, 'transport/retry.js'));

/** The backoff the node helpers set for tests; restored by `restoreTiming`. */
const TEST_TIMING = { ...retry.retryTiming };

function restoreTiming() {
	Object.assign(retry.retryTiming, TEST_TIMING);
}

/** Every request the simulator saw on `server` ('api' or 's3'), optionally of one method or path. */
function requests(sim, server, { method, path: exact } = {}) {
	return sim.requests.filter(
		(r) => r.server === server && (!method || r.method === method) && (!exact || r.path === exact),
	);
}

const apiCalls = (sim, route) => requests(sim, 'api', { path: route });
const puts = (sim) => requests(sim, 's3', { method: 'PUT' });
const gets = (sim) => requests(sim, 's3', { method: 'GET' });

/** How many sockets are open on a server of the simulator (its side of the connections). */
function openConnections(server) {
	return new Promise((resolve, reject) =>
		server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
	);
}

/** The sockets this process still holds open to a server (the client side: n8n's). */
function clientSockets(server) {
	const { port } = server.address();
	return process
		._getActiveHandles()
		.filter((h) => h instanceof net.Socket && h.remotePort === port && !h.destroyed);
}

/**
 * A request for test set-up on a connection of its own that closes after the answer, so that
 * set-up leaves no socket open (fetch keeps its connections alive for seconds).
 */
function request(method, url, { headers = {}, body } = {}) {
	return new Promise((resolve, reject) => {
		const data = body === undefined ? undefined : Buffer.from(body);
		const req = http.request(
			url,
			{
				method,
				agent: false,
				headers: {
					Connection: 'close',
					...(data ? { 'Content-Length': String(data.length) } : {}),
					...headers,
				},
			},
			(res) => {
				const chunks = [];
				res.on('data', (chunk) => chunks.push(chunk));
				res.on('end', () =>
					resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
				);
				res.on('error', reject);
			},
		);
		req.on('error', reject);
		req.end(data);
	});
}

/** POSTs to a Terros route of the simulator with the test key; returns the parsed answer. */
async function callSimulator(sim, route, body = {}, apiKey = helpers.API_KEY) {
	const res = await request('POST', `${sim.baseUrl}${route}`, {
		headers: { Authorization: `ApiKey ${apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	return JSON.parse(res.text);
}

/** PUTs CSV text to an upload URL, as a client other than the node would. */
async function uploadText(url, text) {
	const res = await request('PUT', url, { headers: { 'Content-Type': 'text/csv' }, body: text });
	if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.text}`);
}

/** Waits until an import reaches `statuses` (by default a final one); returns its log. */
async function settled(sim, importId, statuses = ['Completed', 'Failed']) {
	for (let i = 0; i < 400; i++) {
		const { log } = await callSimulator(sim, '/import/get', { importId });
		if (statuses.includes(log.importStatus)) return log;
		await pause(10);
	}
	throw new Error(`import ${importId} did not reach ${statuses.join(' or ')}`);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `ms` pass; returns whether it did. */
async function eventually(check, ms = 1000) {
	const end = Date.now() + ms;
	for (;;) {
		if (await check()) return true;
		if (Date.now() > end) return false;
		await pause(10);
	}
}

const md5 = (data) => `"${crypto.createHash('md5').update(data).digest('hex')}"`;

/** A temporary folder for the file's test files, removed after its tests. */
function useTempDir() {
	const handle = { dir: undefined };
	beforeAll(() => {
		handle.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-reliability-'));
	});
	afterAll(() => fs.rmSync(handle.dir, { recursive: true, force: true }));
	handle.file = (name, bytes) => {
		const file = path.join(handle.dir, name);
		fs.writeFileSync(file, bytes);
		return file;
	};
	return handle;
}

/** A CSV of Accounts of about `bytes` bytes, every row valid. */
function bigCsv(bytes) {
	const row = 'Acme Holdings Incorporated,ops@acme.example,+1 555 0100\r\n';
	return `name,email,phone\r\n${row.repeat(Math.ceil(bytes / row.length))}`;
}

/** Creates an import straight on the simulator; returns what Create would output. */
async function newImport(sim, body = { entity: 'Account' }) {
	const created = await callSimulator(sim, '/import/add', body);
	return { importId: created.importData.importId, uploadUrl: created.url };
}

/** An import of the sample CSV, processed: Completed with rows 3, 4 and 5 failed. */
async function importWithErrors(sim) {
	const { importId, uploadUrl } = await newImport(sim);
	await uploadText(uploadUrl, helpers.SAMPLE_CSV);
	await settled(sim, importId);
	return importId;
}

/** Get Errors (Failed Rows, one download at a time) for `importId`, in a node named `name`. */
function errorRows(sim, importId, name = 'Errors') {
	return helpers.run(
		sim,
		[{ importId }],
		[helpers.terros(name, 'getErrors', { output: 'rows', errorOptions: { concurrency: 1 } })],
	);
}

/** An import that got the sample file and then stays at `status`; forgets the set-up requests. */
async function stuckImport(sim, status = 'Processing') {
	sim.inject({ route: '/import/add', kind: 'stuck', status });
	const { importId, uploadUrl } = await newImport(sim);
	await uploadText(uploadUrl, helpers.SAMPLE_CSV);
	await settled(sim, importId, [status]);
	sim.requests = [];
	return importId;
}

/** Imports on the simulator as List Imports shows them to the test key. */
async function listImports(sim) {
	return (await callSimulator(sim, '/import/list')).imports;
}

/** A Transport Call node: the package transport calling `route` (see test/harness). */
function transportCall(name, route, body = {}) {
	return {
		name,
		type: 'test.transportCall',
		parameters: { route, body: JSON.stringify(body) },
	};
}

/** A NodeOperationError shape for bad input. */
const badInput = (message, description) => ({
	name: 'NodeOperationError',
	message,
	description,
	httpCode: null,
});

module.exports = {
	...helpers,
	DIST,
	apiCalls,
	badInput,
	bigCsv,
	callSimulator,
	clientSockets,
	constants,
	errorRows,
	eventually,
	gets,
	importWithErrors,
	listImports,
	md5,
	newImport,
	openConnections,
	pause,
	puts,
	requests,
	restoreTiming,
	retry,
	settled,
	stuckImport,
	transportCall,
	uploadText,
	useTempDir,
};
