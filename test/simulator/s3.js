'use strict';

const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl, S3RequestPresigner } = require('@aws-sdk/s3-request-presigner');
const { formatUrl } = require('@aws-sdk/core/util');
const { HttpRequest, extendedEncodeURIComponent } = require('@smithy/core/protocols');

const BUCKET = 'terros-imports';
const MAX_KNOWN_SIGNATURES = 100_000;
const REGION = 'us-east-1';
const CREDENTIALS = {
	accessKeyId: 'AKIASIMULATORTERROS',
	secretAccessKey: 'simulator-secret-access-key-not-a-real-one',
};

/** SigV4 pre-signing and checking with AWS's own code, for an S3 endpoint on the simulator. */
class Presigner {
	constructor() {
		this.clients = new Map();
		// Signatures already made, by everything they depend on: checking a URL this simulator
		// signed is then a lookup instead of a SigV4 computation (~3 ms), which would make the
		// simulator, not the client, the bottleneck for thousands of error-file downloads.
		this.known = new Map();
		this.fastPresigners = new Map();
		// Per host and method: a promise of whether fastSign makes getSignedUrl's very signature.
		this.fastChecked = new Map();
	}

	remember(inputs, signature) {
		if (this.known.size >= MAX_KNOWN_SIGNATURES) this.known.clear();
		this.known.set(JSON.stringify(inputs), signature);
	}

	client(host) {
		let client = this.clients.get(host);
		if (!client) {
			client = new S3Client({
				region: REGION,
				endpoint: `http://${host}`,
				forcePathStyle: true,
				credentials: CREDENTIALS,
				requestChecksumCalculation: 'WHEN_REQUIRED',
			});
			this.clients.set(host, client);
		}
		return client;
	}

	command(method, key, contentType) {
		return method === 'PUT'
			? new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: contentType })
			: new GetObjectCommand({ Bucket: BUCKET, Key: key });
	}

	/**
	 * AWS's own presigner on the request S3's GetObject / PutObject would build. getSignedUrl
	 * resolves the endpoint and runs the command's middleware for every URL (about 1 ms each,
	 * 10 s for a list of 10,000 error files); this signs the same request several times faster.
	 */
	async fastSign(host, method, key, options) {
		let presigner = this.fastPresigners.get(host);
		if (!presigner) {
			const { config } = this.client(host);
			presigner = new S3RequestPresigner({
				...config,
				signingName: 's3',
				region: async () => REGION,
			});
			this.fastPresigners.set(host, presigner);
		}
		const [hostname, port] = host.split(':');
		const request = new HttpRequest({
			method,
			protocol: 'http:',
			hostname,
			port: port ? Number(port) : undefined,
			path: `/${BUCKET}/${key.split('/').map(extendedEncodeURIComponent).join('/')}`,
			query:
				method === 'PUT'
					? { 'x-id': 'PutObject' }
					: { 'x-amz-checksum-mode': 'ENABLED', 'x-id': 'GetObject' },
			headers: { host, ...(options.contentType ? { 'content-type': options.contentType } : {}) },
		});
		return formatUrl(await presigner.presign(request, options.presign));
	}

	/** A pre-signed URL; a PUT URL signs `content-type: text/csv`. */
	async sign(host, method, key, expiresInSec, signingDate = new Date()) {
		const signableHeaders = method === 'PUT' ? new Set(['content-type']) : undefined;
		const contentType = method === 'PUT' ? 'text/csv' : undefined;
		const presign = { expiresIn: expiresInSec, signingDate, signableHeaders };
		const check = `${host} ${method}`;
		let fastOk = this.fastChecked.get(check);
		if (fastOk === undefined) {
			// The fast path is used only once it has made getSignedUrl's signature; calls made
			// meanwhile wait for that check.
			fastOk = Promise.all([
				getSignedUrl(this.client(host), this.command(method, key, contentType), { ...presign }),
				this.fastSign(host, method, key, { contentType, presign: { ...presign } }),
			]).then(
				([slow, fast]) =>
					new URL(slow).searchParams.get('X-Amz-Signature') ===
					new URL(fast).searchParams.get('X-Amz-Signature'),
				() => false,
			);
			this.fastChecked.set(check, fastOk);
		}
		const url = (await fastOk)
			? await this.fastSign(host, method, key, { contentType, presign: { ...presign } })
			: await getSignedUrl(this.client(host), this.command(method, key, contentType), presign);
		const q = new URL(url).searchParams;
		this.remember(
			[
				method,
				host,
				key,
				Number(q.get('X-Amz-Expires')),
				q.get('X-Amz-Date'),
				contentType ?? null,
				signableHeaders !== undefined,
			],
			q.get('X-Amz-Signature'),
		);
		return url;
	}

	/**
	 * Checks a received request against its query-string signature. Returns null when valid, or
	 * the S3 error it deserves.
	 */
	async verify(req, url, key, now = Date.now()) {
		const q = url.searchParams;
		const amzDate = q.get('X-Amz-Date');
		const expires = Number(q.get('X-Amz-Expires') ?? NaN);
		const signature = q.get('X-Amz-Signature');
		const signedHeaders = (q.get('X-Amz-SignedHeaders') || '').split(';');
		if (!amzDate || !signature || !q.get('X-Amz-Credential') || !Number.isFinite(expires)) {
			return {
				status: 403,
				code: 'AccessDenied',
				message:
					'Query-string authentication requires the Signature, Expires and Credential parameters',
			};
		}
		const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
		if (!m) {
			return {
				status: 403,
				code: 'AccessDenied',
				message: 'X-Amz-Date must be in the ISO8601 Long Format',
			};
		}
		const signingDate = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
		if (now > signingDate.getTime() + expires * 1000) {
			return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
		}
		const contentType = signedHeaders.includes('content-type')
			? req.headers['content-type']
			: undefined;
		const signableHeaders = signedHeaders.includes('content-type')
			? new Set(['content-type'])
			: undefined;
		const inputs = [
			req.method,
			req.headers.host,
			key,
			expires,
			amzDate,
			contentType ?? null,
			signableHeaders !== undefined,
		];
		let expected = this.known.get(JSON.stringify(inputs));
		if (expected === undefined) {
			const expectedUrl = await getSignedUrl(
				this.client(req.headers.host),
				this.command(req.method, key, contentType),
				{ expiresIn: expires, signingDate, signableHeaders },
			);
			expected = new URL(expectedUrl).searchParams.get('X-Amz-Signature');
			this.remember(inputs, expected);
		}
		if (expected !== signature) {
			return {
				status: 403,
				code: 'SignatureDoesNotMatch',
				message:
					'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			};
		}
		return null;
	}
}

function xmlEscape(text) {
	return String(text).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An S3-style XML error document. */
function s3ErrorXml(code, message, requestId) {
	return (
		'<?xml version="1.0" encoding="UTF-8"?>\n' +
		`<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
		`<RequestId>${xmlEscape(requestId)}</RequestId></Error>`
	);
}

module.exports = { Presigner, s3ErrorXml, BUCKET };
