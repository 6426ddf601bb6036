'use strict';

/**
 * The benchmark behind `npm run bench` (which builds first): each target of the performance issue
 * measured side by side with its reference in one run, printed as a Markdown table and written,
 * with the machine it ran on, to bench/RESULTS.md.
 *
 *   node test/bench/run.js [--quick] [--runs N] [--out FILE]
 *
 * --quick: small sizes, for a sanity run in about a minute and a half; written to
 * .tmp/bench-quick.md unless --out says otherwise, so that it never replaces the real results.
 */

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const { startSimulator } = require('../simulator');
const {
	addImport,
	fmt,
	GIB,
	machineFacts,
	markdownTable,
	median,
	MIB,
	timed,
	writeCsv,
} = require('./lib');
const { benchUpload, uploadRows } = require('./upload');
const { benchErrors, errorRows } = require('./errors');
const { benchWaits, waitRows, waitDetail } = require('./waits');

const ROOT = path.resolve(__dirname, '../..');

function parseArgs(argv) {
	const args = { quick: false, runs: undefined, out: undefined };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--quick') args.quick = true;
		else if (argv[i] === '--runs') args.runs = Number(argv[++i]);
		else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
		else throw new Error(`unknown argument ${argv[i]}`);
	}
	return args;
}

const PLANS = {
	full: {
		uploadSizes: [1 * GIB, 3 * GIB],
		uploadRuns: 2,
		errorCount: 10_000,
		errorSample: 1_000,
		waitMany: 50,
		waitManyRangeMs: [1000, 10_000],
		waitDurationsMs: [500, 1000, 2000, 4000, 8000, 16_000, 32_000],
		apiRequests: 5000,
	},
	quick: {
		uploadSizes: [64 * MIB, 192 * MIB],
		uploadRuns: 2,
		errorCount: 1000,
		errorSample: 200,
		waitMany: 20,
		waitManyRangeMs: [500, 2000],
		waitDurationsMs: [500, 1000, 2000, 4000],
		apiRequests: 1000,
	},
};

const started = Date.now();
const log = (text) =>
	process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);

/** curl POSTing /import/get `count` times, `parallel` at a time: the simulator's API rate. */
async function apiCapacity(sim, count, parallel, dir) {
	const { importId } = await addImport(sim);
	const config = path.join(dir, 'curl-api.txt');
	fs.writeFileSync(
		config,
		Array.from(
			{ length: count },
			() => `url = "${sim.baseUrl}/import/get"\noutput = "/dev/null"\n`,
		).join(''),
	);
	const result = await timed('curl', [
		'-sS',
		'--fail',
		'-Z',
		'--parallel-max',
		String(parallel),
		'-H',
		'Authorization: ApiKey sim-key-acme',
		'-H',
		'Content-Type: application/json',
		'-d',
		JSON.stringify({ importId }),
		'-K',
		config,
	]);
	return { count, wallMs: result.wallMs, ok: result.exitCode === 0 };
}

/** curl -T of a file to the simulator in its default mode (MD5 and a copy on disk). */
async function defaultModeUpload(bytes, dir) {
	const sim = await startSimulator({ processCsv: false, stepMs: 5 });
	try {
		const file = path.join(dir, 'default-mode.csv');
		const { size } = await writeCsv(file, bytes);
		const { importId, url } = await addImport(sim);
		const result = await timed('curl', [
			'-sS',
			'--fail',
			'-o',
			'/dev/null',
			'-T',
			file,
			'-H',
			'Content-Type: text/csv',
			url,
		]);
		await fsp.rm(file, { force: true });
		const stored = sim.imports.get(importId).uploadedBytes === size;
		if (result.exitCode !== 0 || !stored) {
			throw new Error(`default-mode upload failed: curl exit ${result.exitCode} ${result.stderr}`);
		}
		return { size, wallMs: result.wallMs, ok: true };
	} finally {
		await sim.stop();
	}
}

function simulatorRows({ upload, errors, waits, api, defaultMode }) {
	const rows = [];
	const big = upload[upload.length - 1];
	const curlRate = big.size / (big.curlWallMs / 1000);
	const nodeRate = big.size / (big.nodeWallMs / 1000);
	rows.push([
		`4. Simulator: S3 PUT, curl alone (${fmt.size(big.size)}, discard mode)`,
		`${fmt.rate(big.size, big.curlWallMs)}`,
		`the node's upload: ${fmt.rate(big.size, big.nodeWallMs)}`,
		fmt.ratio(curlRate / nodeRate),
		'faster than the node (> 1×)',
		curlRate > nodeRate ? 'yes' : 'no',
	]);
	rows.push([
		`4. Simulator: S3 PUT, default mode (MD5 + copy on disk), curl alone, ${fmt.size(defaultMode.size)}`,
		fmt.rate(defaultMode.size, defaultMode.wallMs),
		`discard mode: ${fmt.rate(big.size, big.curlWallMs)}`,
		fmt.ratio(big.curlWallMs / big.size / (defaultMode.wallMs / defaultMode.size)),
		'context: why the upload runs use discard mode',
		'',
	]);
	const getRate = errors.count / (errors.capacity.wallMs / 1000);
	const nodeGetRate = errors.ours.requests / (errors.ours.nodeMs / 1000);
	rows.push([
		'4. Simulator: S3 GET of error files, curl alone, no latency, 10 at a time',
		`${getRate.toFixed(0)} requests/s`,
		`the node with 20–50 ms latency: ${nodeGetRate.toFixed(0)} requests/s`,
		fmt.ratio(getRate / nodeGetRate),
		'faster than the node needs (> 1×)',
		getRate > nodeGetRate ? 'yes' : 'no',
	]);
	const apiRate = api.count / (api.wallMs / 1000);
	const many = waits.concurrent.perImport.length;
	const needed = many / (waits.concurrent.initialMs / 1000);
	rows.push([
		'4. Simulator: API /import/get, curl alone, 50 at a time',
		`${apiRate.toFixed(0)} requests/s`,
		`the wait's busiest moment: ${needed.toFixed(0)} requests/s (${many} imports every ${waits.concurrent.initialMs} ms)`,
		fmt.ratio(apiRate / needed),
		'faster than the node needs (> 1×)',
		apiRate > needed ? 'yes' : 'no',
	]);
	return rows;
}

function threads(t) {
	if (!t) return '';
	return [t.main, t.v8Workers, t.libuvPool].map((ms) => fmt.ms(ms ?? 0)).join(' / ');
}

function uploadDetail(upload) {
	const rows = [];
	for (const r of upload) {
		r.curl.forEach((c, i) => {
			const n = r.node[i];
			const gc = n.gc ?? {};
			rows.push([
				fmt.size(r.size),
				String(i + 1),
				fmt.ms(c.wallMs),
				fmt.ms(c.cpuMs),
				fmt.ms(n.wallMs),
				fmt.ms(n.cpuMs),
				`${fmt.mib(n.rssBeforeKiB)} → ${fmt.mib(n.peakKiB)}`,
				`${gc.major?.count ?? 0} major (${gc.major?.ms ?? 0} ms paused), ${gc.minor?.count ?? 0} minor`,
				threads(n.threads),
			]);
		});
	}
	return rows;
}

const range = (kibs) =>
	`${(Math.min(...kibs) / 1024).toFixed(0)}–${(Math.max(...kibs) / 1024).toFixed(0)}`;

/** Findings computed from the runs, for the shortfalls. */
function analysis({ upload, errors }) {
	const nodeRuns = upload.flatMap((r) => r.node.map((n) => ({ ...n, size: r.size })));
	const curlRuns = upload.flatMap((r) => r.curl.map((c) => ({ ...c, size: r.size })));
	const perGib = (runs, pick) => median(runs.map((x) => pick(x) / (x.size / GIB)));
	const cpu = perGib(nodeRuns, (n) => n.cpuMs);
	const main = perGib(nodeRuns, (n) => n.threads?.main ?? NaN);
	const v8 = perGib(nodeRuns, (n) => n.threads?.v8Workers ?? NaN);
	const pool = perGib(nodeRuns, (n) => n.threads?.libuvPool ?? NaN);
	const majors = perGib(nodeRuns, (n) => n.gc?.major?.count ?? 0);
	const pauses = perGib(nodeRuns, (n) => n.gc?.major?.ms ?? 0);
	const curlCpu = perGib(curlRuns, (c) => c.cpuMs);
	const reqCpu = errors.ours.cpuMs / errors.ours.requests;
	const reqWall = errors.ours.nodeMs / errors.ours.requests;
	return [
		`- **Upload wall time.** The node's upload is CPU-bound where curl's is not: per GiB it used ${fmt.ms(cpu)} of CPU (median) against curl's ${fmt.ms(curlCpu)}. By thread: main ${fmt.ms(main)}, V8's workers ${fmt.ms(v8)}, libuv's pool (file reads) ${fmt.ms(pool)}. The V8 workers do concurrent garbage-collection marking and sweeping: ${majors.toFixed(0)} full (mark-compact) collections per GiB, pausing the main thread ${fmt.ms(pauses)} in all. Each read of n8n's binary stream (fs.ReadStream, 1 MiB reads since this change, 64 KiB before) allocates a new Buffer; V8 frees them only by a collection, which it starts after every few tens of MiB of them, and in n8n's heap these are full collections. The node cannot reuse buffers: it gets a stream from n8n (\`getBinaryStream\`) and may not open files itself. On ${os.cpus().length} cores, shared by the node, the simulator and curl, that CPU is wall time.`,
		`- **Upload memory.** The same buffers are what the RSS growth is: garbage until the next collection. Across the runs the growth was ${range(nodeRuns.map((n) => n.growthKiB))} MiB, the RSS before the upload ${range(nodeRuns.map((n) => n.rssBeforeKiB))} MiB and the peak during it ${range(nodeRuns.map((n) => n.peakKiB))} MiB, for every size: the peak does not follow the file, the growth follows where the input node's copy left the collector.`,
		`- **Error-file memory.** What stays after Get Errors (V8 heap after a full GC) grows by ${((errors.ours.retainedBytes - errors.oursSample.retainedBytes) / (errors.ours.items - errors.oursSample.items) / 1024).toFixed(2)} KiB per extra file; the output items alone take ${(errors.ours.itemsHeapBytes / errors.ours.items / 1024).toFixed(2)} KiB each (a copy of their json, measured the same way). The peak RSS during the node grows with the run's length (+${fmt.mib(errors.oursSample.growthKiB)} for ${errors.sample.toLocaleString('en')} files, +${fmt.mib(errors.ours.growthKiB)} for ${errors.count.toLocaleString('en')}): that is garbage (each request's agent, socket and axios objects) which V8 collects lazily while the machine has memory to spare, not data the node holds.`,
		`- **Error files.** Every download costs the node about ${fmt.ms(reqCpu)} of CPU (${errors.ours.requests.toLocaleString('en')} requests; ${fmt.ms(reqWall)} of wall time per file at 10 in flight, against the simulator's 20–50 ms latency). n8n's HTTP helper (n8n-core 2.41, @n8n/backend-network) builds a new http.Agent for every request (\`setAxiosAgents\` → \`buildNodeAgents\`), so no connection is reused: the simulator accepted ${errors.ours.sockets.toLocaleString('en')} sockets for ${errors.ours.requests.toLocaleString('en')} requests. \`IHttpRequestOptions\` has no agent option; its \`agentOptions\` only configure that new agent, and a node may not import node:http. Each request pays a TCP connect (over HTTPS also a TLS handshake) and a new agent.`,
	];
}

function render({ facts, plan, quick, rows, results, durationMs }) {
	const header = ['target', 'ours', 'reference', 'ratio', 'goal', 'met?'];
	const lines = [
		'# Benchmark results',
		'',
		`Written by \`npm run bench${quick ? ' -- --quick' : ''}\` (test/bench/run.js) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${fmt.ms(durationMs)}.`,
		'',
		'| machine |  |',
		'| --- | --- |',
		`| CPU | ${facts.cpu}, ${facts.cores} cores |`,
		`| RAM | ${facts.ramGiB} GiB |`,
		`| OS | ${facts.os} |`,
		`| Node.js | ${facts.node} |`,
		`| curl | ${facts.curl} |`,
		`| load average at start / end | ${facts.loadStart.join(' ')} / ${facts.loadEnd.join(' ')} |`,
		'',
		markdownTable(header, rows),
		'',
		'## How each target is measured',
		'',
		`- **Upload**: a CSV of each size is copied into n8n's binary store (filesystem mode) by the input node, then the node's Upload File PUTs it, inside n8n-core's engine in a child process of its own; the reference is \`curl -T\` of the same file to the same simulator endpoint. ${plan.uploadRuns} runs per side and size, alternating (and alternating which side goes first), after \`sync\`; medians. Wall time: the Upload node's execution (engine hooks) against curl's process. Peak RSS growth: the child's peak RSS during the Upload node (the kernel's peak is reset when it starts, /proc/self/clear_refs) minus its RSS just before. The simulator runs in discard mode: bodies are counted and CRC-32-checked (the ETag), not hashed with MD5 nor written to disk, which would otherwise be the bottleneck (row 4).`,
		`- **Error details**: an import with ${plan.errorCount.toLocaleString('en')} failed rows (one error file each); the simulator answers each file after 20–50 ms. Get Errors (Failed Rows, Parallel Downloads 10) against the same node one at a time (Parallel Downloads 1) on a ${plan.errorSample.toLocaleString('en')}-file import, scaled. The simulator counts requests in flight and the connections it accepts. Memory kept: V8 heap in use after the node minus before it, after a full GC each time.`,
		`- **Waiting**: one Wait for Completion node given many imports; each import's file is uploaded so that it completes a chosen time after the node first asks about it. The simulator logs every status request: the lag is from the import's final status to the request that saw it; the interval in force is the node's sleep before that request (${'initial × 2^k'}, capped).`,
		'- **Simulator**: curl alone against it, no n8n.',
		'',
		'## Where the time and memory go',
		'',
		...analysis(results),
		'',
		'## Upload runs',
		'',
		markdownTable(
			[
				'size',
				'run',
				'curl wall',
				'curl CPU',
				'node wall',
				'node CPU',
				'node RSS before → peak',
				'node GC during upload',
				'node CPU by thread: main / V8 workers (GC) / libuv pool',
			],
			uploadDetail(results.upload),
		),
		'',
		`## Status requests by import duration (interval ${results.waits.durations.initialMs / 1000} s doubling to ${results.waits.durations.capMs / 1000} s)`,
		'',
		markdownTable(
			[
				'duration',
				'requests',
				'schedule predicts',
				`fixed ${results.waits.durations.initialMs / 1000} s interval`,
				'lag',
				'interval in force',
			],
			waitDetail(results.waits),
		),
		'',
		'## Error details, all runs',
		'',
		markdownTable(
			[
				'run',
				'files',
				'wall',
				'CPU',
				'requests',
				'sockets',
				'peak in flight',
				'peak RSS growth',
				'kept per file',
				'items alone per file',
				'JSON per row',
			],
			[
				['node, 10 at a time', results.errors.ours],
				['node, one at a time', results.errors.serial],
				['node, 10 at a time (sample)', results.errors.oursSample],
			]
				.map(([name, r]) => [
					name,
					r.items.toLocaleString('en'),
					fmt.ms(r.nodeMs),
					fmt.ms(r.cpuMs),
					r.requests.toLocaleString('en'),
					r.sockets.toLocaleString('en'),
					String(r.peakInFlight),
					fmt.mib(r.growthKiB),
					`${(r.retainedBytes / r.items / 1024).toFixed(1)} KiB`,
					`${(r.itemsHeapBytes / r.items / 1024).toFixed(1)} KiB`,
					`${(r.jsonBytes / r.items).toFixed(0)} B`,
				])
				.concat([
					[
						'curl, 10 at a time, keep-alive (sample)',
						results.errors.sample.toLocaleString('en'),
						fmt.ms(results.errors.curlKeepAlive.wallMs),
						'',
						results.errors.sample.toLocaleString('en'),
						String(results.errors.curlKeepAlive.sockets),
						'',
						'',
						'',
						'',
						'',
					],
					[
						'curl, 10 at a time, Connection: close (sample)',
						results.errors.sample.toLocaleString('en'),
						fmt.ms(results.errors.curlClose.wallMs),
						'',
						results.errors.sample.toLocaleString('en'),
						String(results.errors.curlClose.sockets),
						'',
						'',
						'',
						'',
						'',
					],
				]),
		),
		'',
		`The list of ${plan.errorCount.toLocaleString('en')} error records (Get Import Errors, which signs every URL) took ${fmt.ms(results.errors.listMs)} of the simulator's time.`,
		'',
	];
	return lines.join('\n');
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const plan = { ...PLANS[args.quick ? 'quick' : 'full'] };
	if (args.runs) plan.uploadRuns = args.runs;
	const out = args.out ?? path.join(ROOT, args.quick ? '.tmp/bench-quick.md' : 'bench/RESULTS.md');
	const facts = machineFacts();
	facts.loadStart = facts.loadAverage;
	const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'terros-bench-'));
	// The children's engine harness writes a run log for its secret scan: keep it out of the repo.
	const env = { TERROS_RUN_LOG_DIR: path.join(dir, 'run-log') };
	const results = {};
	try {
		const uploadSim = await startSimulator({ processCsv: false, discardUploads: true, stepMs: 5 });
		try {
			results.upload = await benchUpload(uploadSim, {
				sizes: plan.uploadSizes,
				runs: plan.uploadRuns,
				dir,
				env,
				log,
			});
		} finally {
			await uploadSim.stop();
		}
		log('simulator: default-mode upload with curl');
		results.defaultMode = await defaultModeUpload(plan.uploadSizes[0], dir);

		const sim = await startSimulator({ stepMs: 5 });
		try {
			results.errors = await benchErrors(sim, {
				count: plan.errorCount,
				sample: plan.errorSample,
				latencyMs: [20, 50],
				dir,
				env,
				log,
			});
			sim.options.stepMs = 25;
			results.waits = await benchWaits(sim, {
				many: plan.waitMany,
				manyRangeMs: plan.waitManyRangeMs,
				durationsMs: plan.waitDurationsMs,
				dir,
				env,
				log,
			});
			log('simulator: API rate with curl');
			results.api = await apiCapacity(sim, plan.apiRequests, 50, dir);
		} finally {
			await sim.stop();
		}
	} finally {
		await fsp.rm(dir, { recursive: true, force: true });
	}
	facts.loadEnd = machineFacts().loadAverage;
	const rows = [
		...uploadRows(results.upload),
		...errorRows(results.errors),
		...waitRows(results.waits),
		...simulatorRows(results),
	];
	let text = render({
		facts,
		plan,
		quick: args.quick,
		rows,
		results,
		durationMs: Date.now() - started,
	});
	try {
		const prettier = require('prettier');
		const options = (await prettier.resolveConfig(out)) ?? {};
		text = await prettier.format(text, { ...options, parser: 'markdown', filepath: out });
	} catch {
		// Unformatted Markdown is still Markdown.
	}
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, text);
	process.stdout.write(
		`${markdownTable(['target', 'ours', 'reference', 'ratio', 'goal', 'met?'], rows)}\n\n`,
	);
	process.stdout.write(`Written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
