'use strict';

const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');

const BUCKET = 'terros-imports';
const REGION = 'us-east-1';
const CREDENTIALS = {
	accessKeyId: 'AKIASIMULATORTERROS',
	secretAccessKey: 'simulator-secret-access-key-not-a-real-one',
};

/** SigV4 pre-signing and checking with AWS's own code, for an S3 endpoint on the simulator. */
class Presigner {
	constructor() {
		this.clients = new Map();
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

	/** A pre-signed URL; a PUT URL signs `content-type: text/csv`. */
	async sign(host, method, key, expiresInSec, signingDate = new Date()) {
		const signableHeaders = method === 'PUT' ? new Set(['content-type']) : undefined;
		return getSignedUrl(
			this.client(host),
			this.command(method, key, method === 'PUT' ? 'text/csv' : undefined),
			{ expiresIn: expiresInSec, signingDate, signableHeaders },
		);
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
		const expected = await getSignedUrl(
			this.client(req.headers.host),
			this.command(req.method, key, contentType),
			{ expiresIn: expires, signingDate, signableHeaders },
		);
		if (new URL(expected).searchParams.get('X-Amz-Signature') !== signature) {
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
