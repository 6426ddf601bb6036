'use strict';

/**
 * Uploads a large CSV to the simulator's pre-signed S3 URL and reports how much the simulator's
 * resident set grows: the upload must stream to disk, not buffer in memory.
 *
 *   node test/bench/upload-rss.js [--size-mib 1024]
 *
 * Two uploads of the file, each measured from the RSS just before it to its own peak (the peak
 * is reset before each): the first in a fresh simulator, the second in the same one afterwards.
 * Both must stay under the target.
 *
 * The simulator runs with a 1 MiB young generation (`--max-semi-space-size=1`; SIM_NODE_FLAGS
 * overrides it). Each chunk an HTTP server receives is a Buffer whose small JS wrapper lives in
 * the young generation; with Node's default (16 MiB and more) those wrappers, and so the chunks'
 * memory, are freed only every ~64 MiB of upload, which alone is the whole target. With 1 MiB
 * they are scavenged every few MiB. Measured on one 1 GiB upload: 60–66 MiB of growth with the
 * defaults, 16 MiB with 1 MiB.
 */

const { fork } = require('node:child_process');
const crypto = require('node:crypto');
const { once } = require('node:events');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const MIB = 2 ** 20;
const TARGET_GROWTH_MIB = 64;
const HEADER = 'name,address,email,phone\n';

function sizeMib() {
	const i = process.argv.indexOf('--size-mib');
	const value = i > -1 ? Number(process.argv[i + 1]) : 1024;
	if (!Number.isFinite(value) || value < 1 / 1024) {
		throw new Error(`--size-mib must be a number of MiB ≥ 1/1024, got ${process.argv[i + 1]}`);
	}
	return value;
}

function row(n) {
	const phone = String(n % 10_000).padStart(4, '0');
	return `Account ${n},${n} Main Street,acct${n}@example.com,+1 555 ${phone}\n`;
}

/** Writes `size` bytes of CSV in 1 MiB blocks; resolves with the file's MD5. */
async function writeCsv(file, size) {
	const out = fs.createWriteStream(file);
	const hash = crypto.createHash('md5');
	let written = 0;
	let n = 0;
	const write = async (text) => {
		const buf = Buffer.from(text, 'latin1');
		hash.update(buf);
		written += buf.length;
		if (!out.write(buf)) await once(out, 'drain');
	};
	await write(HEADER.slice(0, size));
	while (written < size) {
		const budget = Math.min(MIB, size - written);
		let block = '';
		while (budget - block.length > 160) block += row(++n);
		const rest = budget - block.length;
		block += rest >= 10 ? `Filler${'x'.repeat(rest - 10)},,,\n` : '\n'.repeat(rest);
		await write(block);
	}
	out.end();
	await once(out, 'finish');
	return { md5: hash.digest('hex'), rows: n };
}

const SIM_NODE_FLAGS = (process.env.SIM_NODE_FLAGS ?? '--max-semi-space-size=1')
	.split(' ')
	.filter(Boolean);

async function startChild() {
	const child = fork(path.join(__dirname, 'simulator-child.js'), [], {
		execArgv: SIM_NODE_FLAGS,
		stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
	});
	const lines = readline.createInterface({ input: child.stdout });
	const first = await Promise.race([
		once(lines, 'line').then(([line]) => line),
		once(child, 'exit').then(([code]) => {
			throw new Error(`simulator child exited with code ${code}`);
		}),
	]);
	lines.close();
	return { child, ...JSON.parse(first) };
}

let nextId = 0;

function memory(child, resetPeak = false) {
	const id = ++nextId;
	return new Promise((resolve) => {
		const onMessage = (message) => {
			if (message?.type !== 'memory' || message.id !== id) return;
			child.off('message', onMessage);
			resolve({
				rss: message.rssBytes / MIB,
				maxRss: message.maxRssKiB / 1024,
				peak: message.hwmKiB / 1024,
				peakReset: message.peakReset,
			});
		};
		child.on('message', onMessage);
		child.send({ type: 'memory', id, resetPeak });
	});
}

/** Uploads the file once; the simulator's RSS before, its peak during, and the upload's speed. */
async function measuredUpload(sim, file, size, md5) {
	const url = await addImport(sim.baseUrl);
	const before = await memory(sim.child, true);
	if (!before.peakReset) throw new Error('cannot reset the peak RSS (/proc/self/clear_refs)');
	const startedAt = Date.now();
	const res = await put(url, file, size);
	const uploadSec = (Date.now() - startedAt) / 1000;
	const after = await memory(sim.child);
	if (res.status !== 200) throw new Error(`upload failed: HTTP ${res.status} ${res.text}`);
	if (res.etag !== `"${md5}"`) throw new Error(`ETag ${res.etag} does not match MD5 "${md5}"`);
	return { before, after, uploadSec, growth: after.peak - before.rss };
}

async function addImport(baseUrl) {
	const res = await fetch(`${baseUrl}/import/add`, {
		method: 'POST',
		headers: { Authorization: 'ApiKey sim-key-acme', 'Content-Type': 'application/json' },
		body: JSON.stringify({ entity: 'Account', name: 'RSS benchmark' }),
	});
	const body = await res.json();
	if (body.type !== 'success') throw new Error(`/import/add failed: ${JSON.stringify(body)}`);
	return body.url;
}

/** PUTs a Buffer, or a file streamed from disk, with Content-Length. */
function put(url, body, size) {
	return new Promise((resolve, reject) => {
		const req = http.request(
			url,
			{
				method: 'PUT',
				agent: false,
				headers: { 'Content-Type': 'text/csv', 'Content-Length': String(size) },
			},
			(res) => {
				const chunks = [];
				res.on('data', (chunk) => chunks.push(chunk));
				res.on('end', () =>
					resolve({
						status: res.statusCode,
						etag: res.headers.etag,
						text: Buffer.concat(chunks).toString(),
					}),
				);
			},
		);
		req.on('error', reject);
		if (Buffer.isBuffer(body)) return req.end(body);
		const source = fs.createReadStream(body, { highWaterMark: MIB });
		source.on('error', (error) => req.destroy(error));
		source.pipe(req);
	});
}

const mib = (value) => value.toFixed(1);

async function main() {
	const size = Math.round(sizeMib() * MIB);
	const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'terros-upload-rss-'));
	const file = path.join(dir, 'upload.csv');
	let sim;
	try {
		const generatedAt = Date.now();
		const { md5, rows } = await writeCsv(file, size);
		const generateSec = (Date.now() - generatedAt) / 1000;

		sim = await startChild();
		const warmUp = await put(await addImport(sim.baseUrl), Buffer.from(HEADER), HEADER.length);
		if (warmUp.status !== 200) throw new Error(`warm-up upload failed: ${warmUp.status}`);

		const cold = await measuredUpload(sim, file, size, md5);
		const steady = await measuredUpload(sim, file, size, md5);

		const pass = cold.growth < TARGET_GROWTH_MIB && steady.growth < TARGET_GROWTH_MIB;
		console.log(
			`Two uploads of a ${mib(size / MIB)} MiB CSV (${rows.toLocaleString('en')} rows) to the simulator`,
		);
		console.log(
			`(generated in ${generateSec.toFixed(1)} s; uploaded in ${cold.uploadSec.toFixed(1)} s and ` +
				`${steady.uploadSec.toFixed(1)} s, ${mib(size / MIB / cold.uploadSec)} and ` +
				`${mib(size / MIB / steady.uploadSec)} MiB/s; ETags match the file's MD5)`,
		);
		console.log('');
		console.log('| Simulator memory, MiB | first upload (fresh process) | second upload |');
		console.log('|---|---:|---:|');
		console.log(`| RSS before | ${mib(cold.before.rss)} | ${mib(steady.before.rss)} |`);
		console.log(`| Peak RSS during | ${mib(cold.after.peak)} | ${mib(steady.after.peak)} |`);
		console.log(`| RSS after | ${mib(cold.after.rss)} | ${mib(steady.after.rss)} |`);
		console.log(`| Growth (peak − before) | ${mib(cold.growth)} | ${mib(steady.growth)} |`);
		console.log('');
		console.log(
			`${pass ? 'PASS' : 'FAIL'}: the uploads grew the simulator's RSS by ${mib(cold.growth)} and ` +
				`${mib(steady.growth)} MiB; target < ${TARGET_GROWTH_MIB} MiB each ` +
				`(simulator flags: ${SIM_NODE_FLAGS.join(' ') || 'none'}).`,
		);
		process.exitCode = pass ? 0 : 1;
	} finally {
		if (sim) {
			sim.child.send({ type: 'stop' });
			await once(sim.child, 'exit');
		}
		await fsp.rm(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
