'use strict';

/**
 * Runs workflows of this package's nodes inside n8n-core's WorkflowExecute, with the real
 * request helpers, binary data in filesystem mode and credentials applied from the credential
 * class's own `authenticate` block.
 */

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const DIST = path.resolve(__dirname, '../../dist');

// n8n-core reads its storage folder from the environment when its config is first built.
const USER_FOLDER = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-n8n-'));
process.env.N8N_USER_FOLDER = USER_FOLDER;
process.env.N8N_DEFAULT_BINARY_DATA_MODE = 'filesystem';
process.env.N8N_ENCRYPTION_KEY ??= 'terros-test-engine-only';
process.env.N8N_RUNNERS_ENABLED ??= 'false';

const { Container } = require(require.resolve('@n8n/di', { paths: [require.resolve('n8n-core')] }));
const { Logger } = require(
	require.resolve('@n8n/backend-common', { paths: [require.resolve('n8n-core')] }),
);
const core = require('n8n-core');
const { Workflow, NodeHelpers, LoggerProxy } = require('n8n-workflow');
const { TestInput } = require('./test-input-node');
const { TransportCall } = require('./transport-call-node');
const runLog = require('./run-log');

// Every line n8n logs goes to the run log too, whatever its level, for the secret scan: lines
// written through a Logger instance (the error reporter's) and through LoggerProxy (the engine's).
if (!Logger.prototype.log.terrosRecorded) {
	const log = Logger.prototype.log;
	const recorded = function (level, message, metadata) {
		runLog.recordLog(level, message, metadata);
		return log.call(this, level, message, metadata);
	};
	recorded.terrosRecorded = true;
	Logger.prototype.log = recorded;
}
function recordLoggerProxy() {
	const logger = Container.get(Logger);
	const forward = (level) => (message, meta) => {
		// Logger.log records the lines it writes; debug lines it drops at the default level.
		if (level === 'debug') runLog.recordLog(level, message, meta);
		logger[level](message, meta);
	};
	LoggerProxy.init({
		error: forward('error'),
		warn: forward('warn'),
		info: forward('info'),
		debug: forward('debug'),
	});
}

const CREDENTIAL_TYPE = 'terrosApi';

function loadPackage() {
	const { TerrosApi } = require(path.join(DIST, 'credentials/TerrosApi.credentials.js'));
	const { TerrosImport } = require(path.join(DIST, 'nodes/TerrosImport/TerrosImport.node.js'));
	return { credential: new TerrosApi(), nodes: { terrosImport: new TerrosImport() } };
}

class NodeTypes {
	constructor(nodes) {
		this.nodes = nodes;
	}
	getByName(name) {
		return this.nodes[name.split('.').pop()];
	}
	getByNameAndVersion(name, version) {
		return NodeHelpers.getVersionedNodeType(this.getByName(name), version);
	}
	getKnownTypes() {
		return {};
	}
}

function resolveTemplate(value, credentials) {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return value
		.slice(1)
		.replace(/\{\{\s*\$credentials\.(\w+)\s*\}\}/g, (_, key) => String(credentials[key] ?? ''));
}

/** Applies a credential class's generic `authenticate` block, as n8n's own helper does. */
class CredentialsHelper {
	constructor(credentialType, data) {
		this.credentialType = credentialType;
		this.data = data;
	}
	getParentTypes() {
		return [];
	}
	isCredentialUsableByNode() {
		return true;
	}
	async authenticate(credentials, typeName, requestOptions) {
		const auth = this.credentialType.authenticate;
		if (!auth || auth.type !== 'generic') return requestOptions;
		for (const [where, values] of Object.entries(auth.properties)) {
			requestOptions[where] = { ...(requestOptions[where] || {}) };
			for (const [key, value] of Object.entries(values)) {
				requestOptions[where][key] = resolveTemplate(value, credentials);
			}
		}
		return requestOptions;
	}
	async preAuthentication() {
		return undefined;
	}
	async runPreAuthentication() {
		return undefined;
	}
	async getCredentials() {
		throw new Error('not used in tests');
	}
	async getDecrypted() {
		const defaults = {};
		for (const p of this.credentialType.properties) defaults[p.name] = p.default;
		return { ...defaults, ...this.data };
	}
	async updateCredentials() {}
	async updateCredentialsOauthTokenData() {}
	getCredentialsProperties() {
		return this.credentialType.properties;
	}
}

let binaryReady;
async function initBinaryData() {
	binaryReady ??= (async () => {
		const service = Container.get(core.BinaryDataService);
		await service.init();
		recordLoggerProxy();
		return service;
	})();
	return binaryReady;
}

function unsupported(name) {
	return () => {
		throw new Error(`${name} is not available in the test engine`);
	};
}

/**
 * Runs a workflow: `nodes` in order, each connected to the next unless `connections` is given.
 * Node types are `test.input` (the TestInput node) or `terros.<name>` for this package's nodes.
 * Returns `{ promise, cancel }`; the promise resolves with `{ run, output(name), error(name) }`.
 */
function startWorkflow({ nodes, connections, credentials, settings, onNodeStart, onNodeEnd }) {
	const pkg = loadPackage();
	const nodeTypes = new NodeTypes({
		...pkg.nodes,
		testInput: new TestInput(),
		transportCall: new TransportCall(),
	});
	const fullNodes = nodes.map((n, i) => ({
		id: n.id ?? `node-${i}`,
		typeVersion: 1,
		position: [i * 200, 0],
		parameters: {},
		...n,
		...((n.type.startsWith('terros.') || n.type === 'test.transportCall') && !n.credentials
			? { credentials: { [CREDENTIAL_TYPE]: { id: 'cred-1', name: 'Terros account' } } }
			: {}),
	}));
	const conns = connections ?? chain(fullNodes);
	const workflow = new Workflow({
		id: 'test-workflow',
		name: 'Test',
		nodes: fullNodes,
		connections: conns,
		nodeTypes,
		active: false,
		settings: { executionOrder: 'v1', ...(settings || {}) },
	});
	const hooks = new core.ExecutionLifecycleHooks('manual', 'exec-1', {
		id: 'test-workflow',
		name: 'Test',
		nodes: fullNodes,
		connections: conns,
		active: false,
		settings: {},
	});
	let finished;
	const done = new Promise((resolve) => {
		finished = resolve;
	});
	hooks.addHandler('workflowExecuteAfter', (run) => finished(run));
	if (onNodeStart) hooks.addHandler('nodeExecuteBefore', (name) => onNodeStart(name));
	if (onNodeEnd) hooks.addHandler('nodeExecuteAfter', (name, task) => onNodeEnd(name, task));
	const additionalData = {
		hooks,
		credentialsHelper: new CredentialsHelper(pkg.credential, credentials),
		executeWorkflow: unsupported('executeWorkflow'),
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678',
		formBaseUrl: '',
		formWaitingBaseUrl: '',
		formTestBaseUrl: '',
		webhookBaseUrl: '',
		webhookWaitingBaseUrl: '',
		webhookTestBaseUrl: '',
		mcpBaseUrl: '',
		mcpTestBaseUrl: '',
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: unsupported('startRunnerTask'),
		executionId: 'exec-1',
		workflowId: 'test-workflow',
	};
	const start = workflow.getNode(fullNodes[0].name);
	const runExecutionData = {
		startData: {},
		resultData: { runData: {} },
		executionData: {
			contextData: {},
			metadata: {},
			nodeExecutionStack: [{ node: start, data: { main: [[{ json: {} }]] }, source: null }],
			waitingExecution: {},
			waitingExecutionSource: {},
		},
	};
	let execution;
	const promise = initBinaryData().then(async () => {
		const workflowExecute = new core.WorkflowExecute(additionalData, 'manual', runExecutionData);
		execution = workflowExecute.processRunExecutionData(workflow);
		try {
			await execution;
		} catch (error) {
			if (!execution.isCanceled) throw error;
		}
		const run = await done;
		const result = new RunResult(run);
		runLog.recordRun(result, { apiKey: credentials?.apiKey });
		return result;
	});
	return {
		promise,
		cancel: () => {
			if (execution) execution.cancel();
		},
	};
}

function chain(nodes) {
	const connections = {};
	for (let i = 0; i < nodes.length - 1; i++) {
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	return connections;
}

class RunResult {
	constructor(run) {
		this.run = run;
		this.runData = run.data.resultData.runData;
		this.status = run.status;
		this.workflowError = run.data.resultData.error;
	}
	/** Items of a node's output (index 0 by default) from its first run. */
	output(nodeName, outputIndex = 0) {
		const task = this.runData[nodeName]?.[0];
		if (!task) throw new Error(`node "${nodeName}" did not run`);
		return task.data?.main?.[outputIndex] ?? [];
	}
	/** The error a node stopped with, if any. */
	error(nodeName) {
		return this.runData[nodeName]?.[0]?.error;
	}
	/** Everything the run produced, serialised: for scans of secrets. */
	serialised() {
		return JSON.stringify(this.run, (key, value) =>
			value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
		);
	}
}

/** Runs a workflow to the end. */
async function runWorkflow(options) {
	return startWorkflow(options).promise;
}

/** Reads a binary item's bytes back from n8n's binary store. */
async function readBinary(binary) {
	const service = await initBinaryData();
	if (binary.id) return service.getAsBuffer(binary);
	return Buffer.from(binary.data, 'base64');
}

async function cleanupUserFolder() {
	await fsp.rm(USER_FOLDER, { recursive: true, force: true });
}

module.exports = { runWorkflow, startWorkflow, readBinary, cleanupUserFolder, USER_FOLDER };
