const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { startSimulator } = require('../simulator');

const MIB = 1024 * 1024;
const FILE_MIB = 384;
const CHILD = path.resolve(__dirname, '../bench/node-upload-child.js');

/** Writes a CSV of about `mib` MiB without holding it in memory. */
async function writeCsv(file, mib) {
	const out = fs.createWriteStream(file);
	const block = Buffer.from(
		Array.from({ length: 8192 }, (_, i) => `Company ${i},owner${i}@example.com,+1 555 0100\n`).join(
			'',
		),
	);
	out.write('name,email,phone\n');
	let written = 0;
	while (written < mib * MIB) {
		if (!out.write(block)) await new Promise((resolve) => out.once('drain', resolve));
		written += block.length;
	}
	await new Promise((resolve) => out.end(resolve));
	return fs.statSync(file).size;
}

let sim;
let dir;
beforeAll(async () => {
	sim = await startSimulator({ processCsv: false });
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-stream-'));
});
afterAll(async () => {
	await sim.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});

it('streams a file of several hundred MiB from the binary store at a peak RSS far below its size', async () => {
	const file = path.join(dir, 'big.csv');
	const size = await writeCsv(file, FILE_MIB);
	const add = await fetch(`${sim.baseUrl}/import/add`, {
		method: 'POST',
		headers: { Authorization: 'ApiKey sim-key-acme', 'Content-Type': 'application/json' },
		body: JSON.stringify({ entity: 'Account' }),
	}).then((r) => r.json());
	const { stdout } = await promisify(execFile)(
		process.execPath,
		[CHILD, sim.baseUrl, add.url, file],
		{ maxBuffer: 1024 * 1024 },
	);
	const report = JSON.parse(stdout.trim().split('\n').pop());
	expect(report).toMatchObject({ ok: true, output: { bytes: size, uploaded: true, attempts: 1 } });
	expect(report.binaryId).toMatch(/^filesystem/);
	const peakMib = report.maxRssKiB / 1024;
	// n8n-core alone takes about 150 MiB; a buffered upload would add the whole file.
	expect(peakMib).toBeLessThan(FILE_MIB * 0.75);
	// The upload's own growth: peak RSS while Upload File ran minus the RSS when it started. Read
	// buffers are garbage until V8 collects them, about every 64 MiB of them; a quarter of the file
	// held at once would already fail this.
	expect(report.uploadGrowthKiB).toEqual(expect.any(Number));
	expect(report.uploadGrowthKiB / 1024).toBeLessThan(FILE_MIB / 4);
	const put = sim.requests.find((r) => r.server === 's3' && r.method === 'PUT');
	expect(put.headers['content-length']).toBe(String(size));
	expect(put.headers['transfer-encoding']).toBeUndefined();
	expect(put.headers.authorization).toBeUndefined();
	expect(sim.imports.get(add.importData.importId).uploadedBytes).toBe(size);
}, 120_000);
