'use strict';

const http = require('node:http');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const { pipeline } = require('node:stream/promises');
const { Transform } = require('node:stream');

const { CsvParser } = require('./csv');
const { schemas, validateRow } = require('./schemas');
const { Presigner, s3ErrorXml, BUCKET } = require('./s3');

const ENTITIES = Object.keys(schemas);
const STATUSES = [
	'New',
	'Uploaded',
	'Queued',
	'Processing',
	'PostProcessing',
	'Completed',
	'Failed',
];
const IN_PROGRESS = new Set(['Uploaded', 'Queued', 'Processing', 'PostProcessing']);
const HOUR_SEC = 3600;
const GB = 1000 ** 3;

/** The options of the Add Import table: their type and the entities they apply to. */
const IMPORT_OPTIONS = {
	name: { type: 'string', entities: ENTITIES },
	disableGeocoding: {
		type: 'boolean',
		entities: ['Account', 'CalendarEvent', 'Contact', 'Recruit'],
	},
	addMissingUsers: { type: 'boolean', entities: ['Account', 'Contact', 'Recruit', 'User'] },
	createCustomLocations: {
		type: 'boolean',
		entities: ['Account', 'CalendarEvent', 'Contact', 'Recruit'],
	},
	notifyUsers: { type: 'boolean', entities: ['User'] },
	workflowId: { type: 'string', entities: ['Account'] },
	columnMapping: { type: 'mapping', entities: ENTITIES },
};

const DEFAULT_KEYS = {
	'sim-key-acme': {
		company: 'acme',
		userId: 'User:acme-admin',
		email: 'admin@acme.example',
		canWrite: true,
	},
	'sim-key-acme-readonly': {
		company: 'acme',
		userId: 'User:acme-viewer',
		email: 'viewer@acme.example',
		canWrite: false,
	},
	'sim-key-globex': {
		company: 'globex',
		userId: 'User:globex-admin',
		email: 'admin@globex.example',
		canWrite: true,
	},
};

class InvalidRequest extends Error {}

/**
 * A local stand-in for the Terros Import API and the S3 bucket behind its pre-signed URLs.
 * Two HTTP servers: `api` answers the Terros routes, `s3` the pre-signed uploads and error files.
 */
class TerrosSimulator {
	constructor(options = {}) {
		this.options = {
			host: '127.0.0.1',
			apiPort: 0,
			s3Port: 0,
			keys: DEFAULT_KEYS,
			stepMs: 50,
			uploadUrlTtlSec: HOUR_SEC,
			errorUrlTtlSec: 12 * HOUR_SEC,
			maxUploadBytes: 5 * GB,
			s3GetLatencyMs: 0,
			processCsv: true,
			discardUploads: false,
			dataDir: undefined,
			...options,
		};
		this.presigner = new Presigner();
		this.imports = new Map();
		this.faults = [];
		this.requests = [];
		this.stats = { api: { inFlight: 0, peakInFlight: 0 }, s3: { inFlight: 0, peakInFlight: 0 } };
		this.timers = new Set();
		this.sequence = 0;
	}

	/** Starts both servers; resolves with their base URLs. */
	async start() {
		this.dataDir =
			this.options.dataDir || (await fsp.mkdtemp(path.join(os.tmpdir(), 'terros-simulator-')));
		this.ownsDataDir = !this.options.dataDir;
		this.apiServer = http.createServer((req, res) =>
			this.track('api', req, res, () => this.handleApi(req, res)),
		);
		this.s3Server = http.createServer((req, res) =>
			this.track('s3', req, res, () => this.handleS3(req, res)),
		);
		for (const server of [this.apiServer, this.s3Server]) {
			server.keepAliveTimeout = 5000;
			server.requestTimeout = 0;
		}
		await listen(this.apiServer, this.options.apiPort, this.options.host);
		await listen(this.s3Server, this.options.s3Port, this.options.host);
		this.baseUrl = `http://${this.options.host}:${this.apiServer.address().port}`;
		this.s3Url = `http://${this.options.host}:${this.s3Server.address().port}`;
		return { baseUrl: this.baseUrl, s3Url: this.s3Url };
	}

	async stop() {
		this.stopped = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		for (const server of [this.apiServer, this.s3Server]) {
			if (!server) continue;
			server.closeAllConnections();
			await new Promise((resolve) => server.close(() => resolve()));
		}
		if (this.ownsDataDir && this.dataDir)
			await fsp.rm(this.dataDir, { recursive: true, force: true });
	}

	/** Forgets imports, faults and recorded requests. */
	reset() {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		this.imports.clear();
		this.faults = [];
		this.requests = [];
		for (const s of Object.values(this.stats)) s.peakInFlight = s.inFlight;
	}

	/**
	 * Scripts a fault for a route: `/import/add` … `/user/get`, `s3:put` or `s3:get`.
	 * Kinds: throttle, serverError, unavailable, envelope, html, empty, truncated, drop,
	 * dropAfter, slow, slowRead (s3:put: the body is read at `bytesPerSecond`), requestTimeout,
	 * s3Error (an S3 XML error: `status`, `code`, `message`), stuck (for /import/add: the import
	 * stops at `status`), shortUploadUrl (for /import/add: the upload URL lives `ttlSec`).
	 * `times` is how many requests it hits (default 1; 0 means every request); `skip` lets that
	 * many matching requests through first.
	 */
	inject(fault) {
		const entry = { times: 1, ...fault, hits: 0 };
		this.faults.push(entry);
		return entry;
	}

	takeFault(route) {
		const index = this.faults.findIndex((f) => f.route === route);
		if (index === -1) return null;
		const fault = this.faults[index];
		// `skip`: let that many matching requests through before the fault starts to hit.
		if (fault.skip > 0) {
			fault.skip--;
			return null;
		}
		fault.hits++;
		if (fault.times > 0 && fault.hits >= fault.times) this.faults.splice(index, 1);
		return fault;
	}

	track(server, req, res, handler) {
		const stats = this.stats[server];
		stats.inFlight++;
		stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
		const record = {
			server,
			method: req.method,
			path: req.url.split('?')[0],
			url: req.url,
			headers: { ...req.headers },
			at: Date.now(),
			status: undefined,
		};
		this.requests.push(record);
		let done = false;
		const finish = () => {
			if (done) return;
			done = true;
			stats.inFlight--;
			record.status = res.statusCode;
		};
		res.on('finish', finish);
		res.on('close', finish);
		Promise.resolve()
			.then(handler)
			.catch((error) => {
				if (!res.headersSent) {
					sendJson(res, 500, {
						type: 'error',
						error: 'Server',
						message: `Simulator fault: ${error.message}`,
					});
				} else {
					res.destroy();
				}
			});
	}

	// ---- Terros API -------------------------------------------------------------------------

	async handleApi(req, res) {
		const url = new URL(req.url, this.baseUrl);
		if (url.pathname.startsWith('/_simulator/')) return this.handleControl(req, res, url.pathname);
		const fault = this.takeFault(url.pathname);
		const routes = {
			'/import/add': (c, b) => this.addImport(c, b, fault),
			'/import/get': (c, b) => ({ log: this.publicLog(this.findImport(c, b)) }),
			'/import/errors': (c, b) => this.importErrors(c, b),
			'/import/list': (c) => this.listImports(c),
			'/import/cleanup': (c, b) => this.cleanupImport(c, b),
			'/user/get': (c) => ({
				user: { userId: c.userId, email: c.email, companyId: `Company:${c.company}` },
			}),
		};
		const route = routes[url.pathname];
		if (!route || req.method !== 'POST') {
			await drain(req);
			return sendJson(res, 404, { message: 'Not Found' });
		}
		if (fault && (await this.applyFault(fault, req, res, 'api'))) return;
		const raw = await readBody(req);
		const caller = this.options.keys[parseApiKey(req.headers.authorization)];
		if (!caller) return sendJson(res, 403, { message: 'Forbidden' });
		let result;
		try {
			let body;
			try {
				body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
			} catch {
				throw new InvalidRequest('Request body is not valid JSON');
			}
			if (body === null || typeof body !== 'object' || Array.isArray(body)) {
				throw new InvalidRequest('Request body must be a JSON object');
			}
			if (
				!caller.canWrite &&
				(url.pathname === '/import/add' || url.pathname === '/import/cleanup')
			) {
				return sendJson(res, 200, {
					type: 'error',
					error: 'NotAuthorized',
					message: 'This API key is not allowed to manage imports',
				});
			}
			result = await route(caller, body);
		} catch (error) {
			if (!(error instanceof InvalidRequest)) throw error;
			return sendJson(res, 200, { type: 'error', error: 'InvalidRequest', message: error.message });
		}
		if (fault && fault.kind === 'dropAfter') return res.socket.destroy();
		sendJson(res, 200, { type: 'success', ...result });
	}

	/** Applies a scripted fault; returns true when the request was answered by it. */
	async applyFault(fault, req, res, server) {
		const s3 = server === 's3';
		switch (fault.kind) {
			case 'slow':
				await delay(fault.delayMs ?? 2000, this);
				return false;
			case 'dropAfter':
			case 'stuck':
			case 'shortUploadUrl':
			case 'slowRead':
				return false;
			case 'drop':
				req.socket.destroy();
				return true;
		}
		await drain(req);
		switch (fault.kind) {
			case 'throttle':
				if (s3) {
					sendS3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
				} else {
					res.setHeader('Retry-After', String(fault.retryAfter ?? 1));
					sendJson(res, 429, { message: 'Too Many Requests' });
				}
				return true;
			case 'serverError':
				if (s3)
					sendS3Error(
						res,
						500,
						'InternalError',
						'We encountered an internal error. Please try again.',
					);
				else sendJson(res, 500, { message: 'Internal server error' });
				return true;
			case 'unavailable':
				if (s3) sendS3Error(res, 503, 'ServiceUnavailable', 'Service is unable to handle request.');
				else sendJson(res, 503, { message: 'Service Unavailable' });
				return true;
			case 's3Error':
				sendS3Error(
					res,
					fault.status ?? 400,
					fault.code ?? 'InvalidRequest',
					fault.message ?? 'Invalid Request',
				);
				return true;
			case 'requestTimeout':
				sendS3Error(
					res,
					400,
					'RequestTimeout',
					'Your socket connection to the server was not read from or written to within the timeout period.',
				);
				return true;
			case 'envelope':
				sendJson(res, 200, {
					type: 'error',
					error: fault.error ?? 'Server',
					message: fault.message ?? 'Internal server error',
					...(fault.retry === undefined ? {} : { retry: fault.retry }),
				});
				return true;
			case 'html':
				res.writeHead(fault.status ?? 502, { 'Content-Type': 'text/html' });
				res.end(
					'<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
				);
				return true;
			case 'empty':
				res.writeHead(fault.status ?? 200, {
					'Content-Type': 'application/json',
					'Content-Length': '0',
				});
				res.end();
				return true;
			case 'truncated':
				res.writeHead(fault.status ?? 200, { 'Content-Type': 'application/json' });
				res.end('{"type":"success","log":{"importId":"Imp');
				return true;
			default:
				throw new Error(`unknown fault kind ${fault.kind}`);
		}
	}

	async addImport(caller, body, fault) {
		const { entity } = body;
		if (typeof entity !== 'string' || !ENTITIES.includes(entity)) {
			throw new InvalidRequest(`entity must be one of ${ENTITIES.join(', ')}`);
		}
		for (const [field, value] of Object.entries(body)) {
			if (field === 'entity') continue;
			const option = IMPORT_OPTIONS[field];
			if (!option) throw new InvalidRequest(`Unknown field: ${field}`);
			if (!option.entities.includes(entity)) {
				throw new InvalidRequest(`${field} does not apply to ${entity} imports`);
			}
			if (option.type === 'mapping') {
				const ok =
					value !== null &&
					typeof value === 'object' &&
					!Array.isArray(value) &&
					Object.values(value).every((v) => typeof v === 'string');
				if (!ok)
					throw new InvalidRequest('columnMapping must be an object whose values are strings');
			} else if (typeof value !== option.type) {
				throw new InvalidRequest(`${field} must be a ${option.type}`);
			}
		}
		const importId = `Import:${crypto.randomBytes(6).toString('hex')}`;
		const record = {
			importId,
			company: caller.company,
			entity,
			name: body.name,
			options: body,
			importStatus: 'New',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			createdAt: Date.now(),
			completedAt: null,
			reason: undefined,
			errorRows: [],
			uploads: 0,
			cleanedUp: false,
			stuckAt: fault?.kind === 'stuck' ? fault.status : undefined,
			sequence: ++this.sequence,
		};
		const ttlSec = fault?.kind === 'shortUploadUrl' ? fault.ttlSec : this.options.uploadUrlTtlSec;
		this.imports.set(importId, record);
		const url = await this.presigner.sign(
			this.s3Host(),
			'PUT',
			`imports/${importId}/upload.csv`,
			Math.max(1, ttlSec),
			ttlSec <= 0 ? new Date(Date.now() - 2000) : new Date(),
		);
		return {
			url,
			importData: { importId, entity, name: body.name, importStatus: 'New' },
		};
	}

	findImport(caller, body) {
		const { importId } = body;
		if (typeof importId !== 'string' || importId === '')
			throw new InvalidRequest('importId is required');
		const record = this.imports.get(importId);
		if (!record || record.company !== caller.company)
			throw new InvalidRequest(`Import not found: ${importId}`);
		return record;
	}

	publicLog(r) {
		return {
			importId: r.importId,
			entity: r.entity,
			importStatus: r.importStatus,
			successes: r.successes,
			errors: r.errors,
			totalMessages: r.totalMessages,
			completedAt: r.completedAt,
			...(r.reason ? { reason: r.reason } : {}),
		};
	}

	async importErrors(caller, body) {
		const record = this.findImport(caller, body);
		if (record.cleanedUp) return { records: [] };
		const host = this.s3Host();
		const records = await Promise.all(
			record.errorRows.map(async (row) => {
				const key = `imports/${record.importId}/errors/row-${row}.json`;
				return {
					key,
					signedUrl: await this.presigner.sign(host, 'GET', key, this.options.errorUrlTtlSec),
				};
			}),
		);
		return { records };
	}

	listImports(caller) {
		const imports = [...this.imports.values()]
			.filter((r) => r.company === caller.company)
			.sort((a, b) => b.createdAt - a.createdAt || b.sequence - a.sequence)
			.map((r) => ({ ...this.publicLog(r), name: r.name, createdAt: r.createdAt }));
		return { imports };
	}

	async cleanupImport(caller, body) {
		const record = this.findImport(caller, body);
		if (IN_PROGRESS.has(record.importStatus)) {
			throw new InvalidRequest(
				`Import ${record.importId} is still in progress (${record.importStatus}); wait until it is Completed or Failed`,
			);
		}
		record.cleanedUp = true;
		await fsp.rm(this.importDir(record.importId), { recursive: true, force: true });
		return { importId: record.importId };
	}

	async handleControl(req, res, pathname) {
		const raw = await readBody(req);
		const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
		if (pathname === '/_simulator/faults' && req.method === 'POST') {
			const faults = Array.isArray(body) ? body : [body];
			for (const f of faults) this.inject(f);
			return sendJson(res, 200, { faults: this.faults.length });
		}
		if (pathname === '/_simulator/reset' && req.method === 'POST') {
			this.reset();
			return sendJson(res, 200, { reset: true });
		}
		if (pathname === '/_simulator/stats' && req.method === 'GET') {
			return sendJson(res, 200, { stats: this.stats, imports: this.imports.size });
		}
		sendJson(res, 404, { message: 'Not Found' });
	}

	// ---- S3 ---------------------------------------------------------------------------------

	s3Host() {
		return `${this.options.host}:${this.s3Server.address().port}`;
	}

	importDir(importId) {
		return path.join(this.dataDir, encodeURIComponent(importId));
	}

	async handleS3(req, res) {
		const url = new URL(req.url, this.s3Url);
		const route = req.method === 'PUT' ? 's3:put' : 's3:get';
		const fault = this.takeFault(route);
		if (fault && (await this.applyFault(fault, req, res, 's3'))) return;
		const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
		const [bucket, prefix, importId, ...rest] = parts;
		const key = parts.slice(1).join('/');
		if (bucket !== BUCKET || prefix !== 'imports' || !importId) {
			await drain(req);
			return sendS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
		}
		if (req.headers.authorization) {
			await drain(req);
			return sendS3Error(
				res,
				400,
				'InvalidArgument',
				'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
			);
		}
		if (req.method === 'PUT') return this.handleUpload(req, res, url, key, importId, rest, fault);
		if (req.method === 'GET') return this.handleDownload(req, res, url, key, importId, rest);
		await drain(req);
		sendS3Error(
			res,
			405,
			'MethodNotAllowed',
			'The specified method is not allowed against this resource.',
		);
	}

	async handleUpload(req, res, url, key, importId, rest, fault) {
		if (/chunked/i.test(req.headers['transfer-encoding'] || '')) {
			await drain(req);
			return sendS3Error(
				res,
				501,
				'NotImplemented',
				'A header you provided implies functionality that is not implemented',
			);
		}
		if (req.headers['content-length'] === undefined) {
			await drain(req);
			return sendS3Error(
				res,
				411,
				'MissingContentLength',
				'You must provide the Content-Length HTTP header.',
			);
		}
		const denied = await this.presigner.verify(req, url, key);
		if (denied) {
			await drain(req);
			return sendS3Error(res, denied.status, denied.code, denied.message);
		}
		const length = Number(req.headers['content-length']);
		if (length > this.options.maxUploadBytes) {
			await drain(req);
			return sendS3Error(
				res,
				400,
				'EntityTooLarge',
				'Your proposed upload exceeds the maximum allowed size',
			);
		}
		const record = this.imports.get(importId);
		if (!record || rest.join('/') !== 'upload.csv') {
			await drain(req);
			return sendS3Error(res, 403, 'AccessDenied', 'Access Denied');
		}
		if (this.options.discardUploads) return this.receiveDiscarded(req, res, record, length);
		const dir = this.importDir(importId);
		await fsp.mkdir(dir, { recursive: true });
		const file = path.join(dir, 'upload.csv');
		const hash = crypto.createHash('md5');
		let received = 0;
		const counter = new Transform({
			transform(chunk, _enc, cb) {
				received += chunk.length;
				hash.update(chunk);
				cb(null, chunk);
			},
		});
		// `slowRead`: the body is read at `bytesPerSecond`, as over a slow link.
		const stages =
			fault?.kind === 'slowRead' ? [throttle(fault.bytesPerSecond ?? 1_000_000, this)] : [];
		try {
			await pipeline(req, ...stages, counter, fs.createWriteStream(file));
		} catch {
			// The client went away mid-body: S3 keeps nothing.
			await fsp.rm(file, { force: true });
			return;
		}
		if (received !== length) await fsp.rm(file, { force: true });
		this.finishUpload(res, record, received, length, `"${hash.digest('hex')}"`, file);
	}

	/** Answers a received upload as S3 does, and starts processing an import's first file. */
	finishUpload(res, record, received, length, etag, file) {
		if (received !== length) {
			return sendS3Error(
				res,
				400,
				'IncompleteBody',
				'You did not provide the number of bytes specified by the Content-Length HTTP header',
			);
		}
		record.uploads++;
		record.uploadedBytes = received;
		res.writeHead(200, { ETag: etag, 'Content-Length': '0', 'x-amz-request-id': requestId() });
		res.end();
		if (record.importStatus === 'New') this.process(record, file);
	}

	/**
	 * Benchmark mode: counts the body and checksums it with CRC-32 (the ETag), but neither stores
	 * it nor hashes it with MD5, so that disk writes and MD5 do not limit upload throughput.
	 */
	async receiveDiscarded(req, res, record, length) {
		let received = 0;
		let crc = 0;
		try {
			for await (const chunk of req) {
				received += chunk.length;
				crc = zlib.crc32(chunk, crc);
			}
		} catch {
			return; // The client went away mid-body.
		}
		const etag = `"crc32-${crc.toString(16).padStart(8, '0')}"`;
		this.finishUpload(res, record, received, length, etag, null);
	}

	async handleDownload(req, res, url, key, importId, rest) {
		await drain(req);
		const latency = this.options.s3GetLatencyMs;
		if (latency) {
			const [min, max] = Array.isArray(latency) ? latency : [latency, latency];
			await delay(min + Math.random() * (max - min), this);
		}
		const denied = await this.presigner.verify(req, url, key);
		if (denied) return sendS3Error(res, denied.status, denied.code, denied.message);
		const file = path.join(this.importDir(importId), ...rest);
		let body;
		try {
			body = await fsp.readFile(file);
		} catch {
			return sendS3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		}
		res.writeHead(200, {
			'Content-Type': 'application/json',
			'Content-Length': String(body.length),
			ETag: `"${crypto.createHash('md5').update(body).digest('hex')}"`,
		});
		res.end(body);
	}

	// ---- Processing -------------------------------------------------------------------------

	stepDelay(status) {
		const step = this.options.stepMs;
		return typeof step === 'number' ? step : (step[status] ?? 50);
	}

	/** Walks an uploaded import through its statuses, parsing the file on the way. */
	process(record, file) {
		const advance = (status, then) => {
			if (this.stopped || record.importStatus === record.stuckAt) return;
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				if (record.importStatus === record.stuckAt) return;
				record.importStatus = status;
				then?.();
			}, this.stepDelay(status));
			this.timers.add(timer);
		};
		if (record.stuckAt === 'New') return;
		record.importStatus = 'Uploaded';
		advance('Queued', () =>
			advance('Processing', () => {
				const parsed =
					this.options.processCsv && file ? this.parseUpload(record, file) : Promise.resolve(null);
				parsed.then((failure) => {
					if (failure) {
						advance('Failed', () => {
							record.reason = failure;
							record.completedAt = Date.now();
						});
						return;
					}
					advance('PostProcessing', () =>
						advance('Completed', () => {
							record.completedAt = Date.now();
						}),
					);
				});
			}),
		);
	}

	/** Parses and validates the uploaded CSV; resolves with a failure reason or null. */
	async parseUpload(record, file) {
		const schema = schemas[record.entity];
		const mapping = record.options.columnMapping || {};
		const decoder = new TextDecoder('utf-8', { fatal: true });
		let header = null;
		let rows = 0;
		const errorDir = path.join(this.importDir(record.importId), 'errors');
		await fsp.mkdir(errorDir, { recursive: true });
		const pendingWrites = [];
		const flushWrites = async () => {
			while (pendingWrites.length) {
				const batch = pendingWrites.splice(0, 64);
				await Promise.all(
					batch.map(([name, text]) => fsp.writeFile(path.join(errorDir, name), text)),
				);
			}
		};
		let failure = null;
		const parser = new CsvParser((fields, line) => {
			if (failure) return;
			if (!header) {
				header = fields.map((name, i) => {
					const clean = i === 0 ? name.replace(/^\uFEFF/, '') : name;
					return mapping[clean] ?? clean;
				});
				const missing = schema.required.filter((c) => !header.includes(c));
				if (missing.length)
					failure = `Missing required column(s) for ${record.entity}: ${missing.join(', ')}`;
				return;
			}
			rows++;
			const row = {};
			header.forEach((name, i) => {
				row[name] = fields[i] ?? '';
			});
			const problems =
				fields.length !== header.length
					? [{ column: null, message: `expected ${header.length} fields, found ${fields.length}` }]
					: validateRow(record.entity, row);
			if (problems.length === 0) {
				record.successes++;
			} else {
				record.errors++;
				record.errorRows.push(rows);
				const detail = {
					row: rows,
					line,
					message: problems.map((p) => p.message).join('; '),
					errors: problems,
				};
				pendingWrites.push([`row-${rows}.json`, JSON.stringify(detail, null, 2)]);
			}
			record.totalMessages++;
		});
		try {
			for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
				if (failure) break;
				if (chunk.includes(0)) {
					failure = 'The file is not a text CSV file (it contains binary data)';
					break;
				}
				parser.push(decoder.decode(chunk, { stream: true }));
				await flushWrites();
			}
			if (!failure) {
				parser.push(decoder.decode());
				parser.end();
				await flushWrites();
			}
		} catch (error) {
			failure =
				error?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA'
					? 'The file is not valid UTF-8 text'
					: `The file could not be parsed as CSV: ${error.message}`;
		}
		if (!failure && !header) failure = 'The file is empty';
		if (!failure && rows === 0) failure = 'The file has a header but no data rows';
		if (failure) {
			record.successes = 0;
			record.errors = 0;
			record.totalMessages = 0;
			record.errorRows = [];
		}
		return failure;
	}
}

function listen(server, port, host) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
}

function delay(ms, sim) {
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			sim.timers.delete(timer);
			resolve();
		}, ms);
		sim.timers.add(timer);
	});
}

/** A stream stage that passes data on at `bytesPerSecond`. */
function throttle(bytesPerSecond, sim) {
	return new Transform({
		transform(chunk, _enc, cb) {
			delay((chunk.length / bytesPerSecond) * 1000, sim).then(() => cb(null, chunk));
		},
	});
}

function parseApiKey(header) {
	const m = /^ApiKey (.+)$/.exec(header || '');
	return m ? m[1] : undefined;
}

async function readBody(req) {
	const chunks = [];
	for await (const chunk of req) chunks.push(chunk);
	return Buffer.concat(chunks);
}

async function drain(req) {
	if (req.readableEnded) return;
	req.resume();
	await new Promise((resolve) => {
		req.on('end', resolve);
		req.on('close', resolve);
		req.on('error', resolve);
	});
}

function sendJson(res, status, body) {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(text),
	});
	res.end(text);
}

function requestId() {
	return crypto.randomBytes(8).toString('hex').toUpperCase();
}

function sendS3Error(res, status, code, message) {
	const id = requestId();
	const text = s3ErrorXml(code, message, id);
	res.writeHead(status, {
		'Content-Type': 'application/xml',
		'Content-Length': Buffer.byteLength(text),
		'x-amz-request-id': id,
	});
	res.end(text);
}

/** Creates and starts a simulator. */
async function startSimulator(options) {
	const sim = new TerrosSimulator(options);
	await sim.start();
	return sim;
}

module.exports = {
	TerrosSimulator,
	startSimulator,
	ENTITIES,
	STATUSES,
	IMPORT_OPTIONS,
	DEFAULT_KEYS,
};
