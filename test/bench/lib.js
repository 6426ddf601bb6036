'use strict';

/** Shared pieces of the benchmark (npm run bench): files, child processes, timing, tables. */

const { execFile, execFileSync } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const API_KEY = 'sim-key-acme';
const TIME = '/usr/bin/time';

/**
 * Writes a CSV of exactly `bytes` bytes (accounts, all valid) in 1 MiB blocks, never holding it
 * whole; resolves with its size and CRC-32 (what the simulator's discard mode answers as ETag).
 */
async function writeCsv(file, bytes) {
	const out = fs.createWriteStream(file);
	const block = Buffer.from(
		Array.from(
			{ length: 16_384 },
			(_, i) => `Company ${i},owner${i}@example.com,+1 555 0100\n`,
		).join(''),
	);
	let crc = 0;
	let written = 0;
	const write = async (buffer) => {
		crc = zlib.crc32(buffer, crc);
		written += buffer.length;
		if (!out.write(buffer)) await once(out, 'drain');
	};
	await write(Buffer.from('name,email,phone\n'));
	while (written < bytes) {
		await write(block.subarray(0, Math.min(block.length, bytes - written)));
	}
	out.end();
	await once(out, 'finish');
	return { size: written, crc32: crc.toString(16).padStart(8, '0') };
}

/** Flushes dirty pages, so that one run's writes are not paid for by the next run. */
function syncDisks() {
	try {
		execFileSync('sync');
	} catch {
		// Not essential.
	}
}

function median(values) {
	const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
	if (!sorted.length) return NaN;
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function sum(values) {
	return values.reduce((a, b) => a + b, 0);
}

/** Runs a command under /usr/bin/time: wall time, CPU time and peak RSS of the command. */
function timed(command, args, options = {}) {
	return new Promise((resolve, reject) => {
		const marker = '@@time@@';
		execFile(
			TIME,
			['-f', `${marker} %e %U %S %M`, command, ...args],
			{ maxBuffer: 64 * MIB, ...options },
			(error, stdout, stderr) => {
				const line = stderr.split('\n').find((l) => l.startsWith(marker));
				if (!line) return reject(error ?? new Error(`no timing from ${command}: ${stderr}`));
				const [, wall, user, sys, maxRss] = line.split(' ');
				resolve({
					exitCode: error?.code ?? 0,
					stdout,
					stderr: stderr.replace(`${line}\n`, ''),
					wallMs: Number(wall) * 1000,
					cpuMs: (Number(user) + Number(sys)) * 1000,
					maxRssKiB: Number(maxRss),
				});
			},
		);
	});
}

/** Runs a Node script in a child process and parses the last line it prints as JSON. */
function runNodeChild(script, args, { nodeArgs = [], env = {}, timeoutMs = 30 * 60_000 } = {}) {
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[...nodeArgs, script, ...args],
			{ maxBuffer: 256 * MIB, timeout: timeoutMs, env: { ...process.env, ...env } },
			(error, stdout, stderr) => {
				const last = stdout.trim().split('\n').pop();
				try {
					resolve(JSON.parse(last));
				} catch {
					reject(
						new Error(
							`${path.basename(script)} failed: ${error?.message ?? ''}\n${stderr.slice(-4000)}`,
						),
					);
				}
			},
		);
	});
}

async function apiCall(sim, route, body) {
	const res = await fetch(`${sim.baseUrl}${route}`, {
		method: 'POST',
		headers: { Authorization: `ApiKey ${API_KEY}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	return res.json();
}

/** Creates an import straight on the simulator; returns `{ importId, url }`. */
async function addImport(sim, body = { entity: 'Account' }) {
	const answer = await apiCall(sim, '/import/add', body);
	if (answer.type !== 'success') throw new Error(`/import/add: ${JSON.stringify(answer)}`);
	return { importId: answer.importData.importId, url: answer.url };
}

/** PUTs CSV text to an upload URL. */
async function uploadText(url, text) {
	const res = await fetch(url, {
		method: 'PUT',
		headers: { 'Content-Type': 'text/csv' },
		body: text,
	});
	if (res.status !== 200) throw new Error(`upload: HTTP ${res.status} ${await res.text()}`);
}

/** Waits until the simulator has the import at a final status. */
async function settled(sim, importId, timeoutMs = 600_000) {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		const status = sim.imports.get(importId)?.importStatus;
		if (status === 'Completed' || status === 'Failed') return sim.imports.get(importId);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error(`import ${importId} did not settle`);
}

/** Counts the connections a server accepts and the most open at once, from now on. */
function countConnections(server) {
	const counter = { accepted: 0, open: 0, peakOpen: 0 };
	const onConnection = (socket) => {
		counter.accepted++;
		counter.open++;
		counter.peakOpen = Math.max(counter.peakOpen, counter.open);
		socket.once('close', () => counter.open--);
	};
	server.on('connection', onConnection);
	counter.stop = () => server.off('connection', onConnection);
	return counter;
}

/** The machine the benchmark ran on. */
function machineFacts() {
	const cpus = os.cpus();
	let release = '';
	try {
		release = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
	} catch {
		release = '';
	}
	let curl = '';
	try {
		curl = execFileSync('curl', ['--version'])
			.toString()
			.split('\n')[0]
			.split(' ')
			.slice(0, 2)
			.join(' ');
	} catch {
		curl = 'curl: not found';
	}
	return {
		cpu: cpus[0]?.model?.trim() ?? 'unknown',
		cores: cpus.length,
		ramGiB: Math.round((os.totalmem() / GIB) * 10) / 10,
		os: `${release || os.type()} (kernel ${os.release()})`,
		node: process.version,
		curl,
		loadAverage: os.loadavg().map((v) => v.toFixed(2)),
	};
}

/** A Markdown table from a header row and rows of cells. */
function markdownTable(header, rows) {
	const line = (cells) =>
		`| ${cells.map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const fmt = {
	ms: (ms) =>
		ms >= 10_000
			? `${(ms / 1000).toFixed(1)} s`
			: ms >= 1000
				? `${(ms / 1000).toFixed(2)} s`
				: `${Math.round(ms)} ms`,
	mib: (kib) => `${(kib / 1024).toFixed(1)} MiB`,
	ratio: (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a'),
	rate: (bytes, ms) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`,
	size: (bytes) =>
		bytes >= GIB
			? `${(bytes / GIB).toFixed(bytes % GIB ? 2 : 0)} GiB`
			: `${Math.round(bytes / MIB)} MiB`,
};

module.exports = {
	API_KEY,
	GIB,
	MIB,
	addImport,
	apiCall,
	countConnections,
	fmt,
	machineFacts,
	markdownTable,
	median,
	runNodeChild,
	settled,
	sum,
	syncDisks,
	timed,
	uploadText,
	writeCsv,
};
