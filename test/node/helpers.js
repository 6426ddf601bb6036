'use strict';

/** Shared set-up for the node tests: a simulator, credentials and short workflows. */

const path = require('node:path');
const { startSimulator } = require('../simulator');
const { runWorkflow, startWorkflow } = require('../harness/engine');

const DIST = path.resolve(__dirname, '../../dist/nodes/TerrosImport');
const { retryTiming } = require(path.join(DIST, 'transport/retry.js'));

// Backoff in milliseconds, so that retries cost nothing in tests.
retryTiming.baseDelayMs = 5;
retryTiming.maxDelayMs = 20;
retryTiming.maxRetryAfterMs = 50;

const API_KEY = 'sim-key-acme';

/** Starts a simulator for the file's tests and stops it afterwards. */
function useSimulator(options = { stepMs: 5 }) {
	const handle = { sim: undefined };
	beforeAll(async () => {
		handle.sim = await startSimulator(options);
	});
	afterAll(() => handle.sim.stop());
	return handle;
}

function credentials(sim, apiKey = API_KEY) {
	return { apiKey, baseUrl: sim.baseUrl };
}

/** A Test Input node emitting `items` (see test/harness/test-input-node.js). */
function input(items) {
	return { name: 'Input', type: 'test.testInput', parameters: { items: JSON.stringify(items) } };
}

/** A Terros Import node named `name` running `operation` with `parameters`. */
function terros(name, operation, parameters = {}, extra = {}) {
	return {
		name,
		type: 'terros.terrosImport',
		parameters: { resource: 'import', operation, ...parameters },
		...extra,
	};
}

/** Runs Input → nodes… with the simulator's credentials. */
function run(sim, items, nodes, apiKey) {
	return runWorkflow({ nodes: [input(items), ...nodes], credentials: credentials(sim, apiKey) });
}

/** Starts Input → nodes… and returns { promise, cancel } for stop-button tests. */
function start(sim, items, nodes, apiKey) {
	return startWorkflow({ nodes: [input(items), ...nodes], credentials: credentials(sim, apiKey) });
}

/** Creates an import straight on the simulator (not through the node), for set-up. */
async function createImportDirectly(sim, body = { entity: 'Account' }, apiKey = API_KEY) {
	const res = await fetch(`${sim.baseUrl}/import/add`, {
		method: 'POST',
		headers: { Authorization: `ApiKey ${apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	return res.json();
}

/** Uploads CSV text to an upload URL straight (not through the node), for set-up. */
async function uploadDirectly(url, text) {
	const res = await fetch(url, {
		method: 'PUT',
		headers: { 'Content-Type': 'text/csv' },
		body: text,
	});
	if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
}

/** Polls the simulator until the import reaches a final status. */
async function settle(sim, importId, apiKey = API_KEY) {
	for (let i = 0; i < 400; i++) {
		const res = await fetch(`${sim.baseUrl}/import/get`, {
			method: 'POST',
			headers: { Authorization: `ApiKey ${apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ importId }),
		});
		const { log } = await res.json();
		if (log.importStatus === 'Completed' || log.importStatus === 'Failed') return log;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	throw new Error(`import ${importId} did not settle`);
}

/** The parts of a node error a user sees. */
function errorShape(error) {
	if (!error) return undefined;
	return {
		name: error.name,
		message: error.message,
		description: error.description,
		httpCode: error.httpCode ?? null,
	};
}

const SAMPLE_CSV =
	'\uFEFFname,email,phone\r\n' +
	'Acme Corp,ops@acme.example,+1 555 0100\r\n' +
	'"Quoted, Inc","sales@quoted.example","+1 555 0101"\r\n' +
	'"Line\nBreak LLC",bad-email,+1 555 0102\r\n' +
	',nobody@example.com,+1 555 0103\r\n' +
	'"Say ""Hi"" Co",hi@say.example,not-a-phone\r\n';

module.exports = {
	API_KEY,
	SAMPLE_CSV,
	createImportDirectly,
	credentials,
	errorShape,
	input,
	run,
	settle,
	start,
	terros,
	uploadDirectly,
	useSimulator,
};
