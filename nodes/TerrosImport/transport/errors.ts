import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

/** Where a failure happened, for the words of the error. */
export interface FailureContext {
	action: string;
	itemIndex: number;
	importId?: string;
}

const TERROS_ERROR_ADVICE: Record<string, string> = {
	NotAuthorized:
		'The API key is valid but may not do this. Ask a Terros admin to check the key’s permissions under Company Settings → API Keys.',
	InvalidRequest: 'Terros rejected the request as sent. Check the parameters named in the message.',
	Server: 'Terros had an internal problem. This is usually temporary: run the node again later.',
	Timeout: 'Terros took too long to answer. This is usually temporary: run the node again later.',
};

function apiError(
	node: INode,
	ctx: FailureContext,
	message: string,
	description: string,
	httpCode: string | null,
	extra: JsonObject = {},
): NodeApiError {
	const error = new NodeApiError(
		node,
		{ message, ...extra },
		{ message, description, httpCode: httpCode ?? undefined, itemIndex: ctx.itemIndex },
	);
	// NodeApiError drops the description when it equals the message, and swaps the message for a
	// generic one when the error carries a network code (ECONNRESET, …); keep both explicit.
	error.message = message;
	error.description = description;
	if (httpCode === null) error.httpCode = null;
	if (ctx.importId) error.context.importId = ctx.importId;
	return error;
}

/** Terros' HTTP 200 `{ type: "error" }` envelope. */
export function terrosEnvelopeError(
	node: INode,
	ctx: FailureContext,
	body: { error?: unknown; message?: unknown },
): NodeApiError {
	const type = typeof body.error === 'string' ? body.error : 'Unknown';
	const serverMessage =
		typeof body.message === 'string' && body.message.trim() ? body.message : 'no message given';
	const advice =
		TERROS_ERROR_ADVICE[type] ?? 'Terros reported an error of a kind this node does not know.';
	const error = apiError(
		node,
		ctx,
		`${ctx.action} failed: ${serverMessage}`,
		`Terros error ${type}. ${advice}`,
		'200',
		{ terrosError: type },
	);
	error.context.terrosError = type;
	return error;
}

/** A Terros answer with an HTTP error status, or a body that is not the JSON Terros sends. */
export function terrosHttpError(
	node: INode,
	ctx: FailureContext,
	statusCode: number,
	body: unknown,
): NodeApiError {
	const code = String(statusCode);
	if (statusCode === 403 || statusCode === 401) {
		return apiError(
			node,
			ctx,
			`${ctx.action} failed: Terros refused the API key (HTTP ${code})`,
			'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.',
			code,
		);
	}
	if (statusCode === 429) {
		return apiError(
			node,
			ctx,
			`${ctx.action} failed: Terros is limiting the request rate (HTTP 429)`,
			'Too many requests in a short time. Wait a minute, or space out the workflow’s runs.',
			code,
		);
	}
	if (statusCode >= 500) {
		return apiError(
			node,
			ctx,
			`${ctx.action} failed: Terros is unavailable (HTTP ${code})`,
			'Terros or a proxy in front of it failed to answer. This is usually temporary: run the node again later.',
			code,
		);
	}
	if (statusCode >= 200 && statusCode < 300) {
		const shown = describeBody(body);
		return apiError(
			node,
			ctx,
			`${ctx.action} failed: Terros sent an answer that is not valid JSON`,
			`Expected a JSON object, got ${shown}. A proxy or a network problem may have cut the answer short; run the node again.`,
			code,
		);
	}
	return apiError(
		node,
		ctx,
		`${ctx.action} failed: Terros answered HTTP ${code}`,
		`Unexpected answer: ${describeBody(body)}. Check the Base URL of the Terros API credential.`,
		code,
	);
}

/** A request that got no answer at all, from Terros (`api`) or the storage service (`storage`). */
export function connectionError(
	node: INode,
	ctx: FailureContext,
	target: string,
	code: string | undefined,
	server: 'api' | 'storage' = 'api',
): NodeApiError {
	const why =
		code === 'ECONNREFUSED'
			? 'the connection was refused'
			: code === 'ETIMEDOUT' || code === 'ECONNABORTED'
				? 'the request timed out'
				: code === 'ENOTFOUND' || code === 'EAI_AGAIN'
					? 'the host name could not be resolved'
					: 'the connection was closed before an answer came';
	return apiError(
		node,
		ctx,
		`${ctx.action} failed: ${why} (${target})`,
		server === 'api'
			? 'Check the network and the Base URL of the Terros API credential, then run the node again.'
			: 'Check the network between n8n and the storage service named in the message, then run the node again.',
		null,
		{ code: code ?? 'unknown' },
	);
}

function describeBody(body: unknown): string {
	if (body === undefined || body === null || body === '') return 'an empty body';
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	if (/^\s*</.test(text)) return 'an HTML page';
	return `"${text.slice(0, 80)}${text.length > 80 ? '…' : ''}"`;
}

const S3_ADVICE: Record<string, (ctx: FailureContext) => [string, string]> = {
	AccessDenied: () => [
		'the upload URL is no longer valid',
		'Upload URLs last one hour. Create a new import and upload the file to its new URL.',
	],
	SignatureDoesNotMatch: () => [
		'the upload URL’s signature does not match the request',
		'The URL was changed after Terros made it, or the file was sent with another content type. Use the URL exactly as Add Import returned it.',
	],
	InvalidArgument: () => [
		'the storage service refused the request’s authentication',
		'A pre-signed URL must be used without an Authorization header. Do not add credentials or auth headers to the upload.',
	],
	EntityTooLarge: () => [
		'the file is larger than one upload may be (5 GB)',
		'Split the CSV into files under 5 GB and import each one.',
	],
	MissingContentLength: () => [
		'the upload was sent without its length',
		'The file’s size could not be determined. Make sure the binary data comes from a complete file.',
	],
	NotImplemented: () => [
		'the upload was sent in chunked encoding, which the storage service does not accept',
		'Send the file with a known size. If this keeps happening, report it as a bug of this node.',
	],
	SlowDown: () => [
		'the storage service is throttling uploads',
		'Wait a few minutes and run the node again.',
	],
	ServiceUnavailable: () => [
		'the storage service is unavailable',
		'This is usually temporary: run the node again later.',
	],
	InternalError: () => [
		'the storage service had an internal error',
		'This is usually temporary: run the node again later.',
	],
	RequestTimeout: () => [
		'the storage service timed out while the file was being sent',
		'Check the network between n8n and the internet, then run the node again.',
	],
	NoSuchKey: () => [
		'the file no longer exists',
		'Error files are removed by Clean Up and expire after 12 hours. Get the error records again.',
	],
};

const DOWNLOAD_LINK_ADVICE =
	'Error file links last 12 hours. Run Get Errors again to get fresh links.';

/** Advice for an error-file download (a GET), where the upload wording above would mislead. */
const S3_DOWNLOAD_ADVICE: Record<string, [string, string]> = {
	AccessDenied: ['the error file’s download link is no longer valid', DOWNLOAD_LINK_ADVICE],
	SignatureDoesNotMatch: [
		'the error file’s download link does not match its signature',
		'The link was changed after Terros made it. Run Get Errors again to get fresh links.',
	],
};

const XML_ENTITIES: Record<string, string> = {
	amp: '&',
	lt: '<',
	gt: '>',
	quot: '"',
	apos: "'",
};

/** Decodes XML's character references (`&amp;`, `&#39;`, `&#x27;`) in an element's text. */
function xmlText(text: string): string {
	return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
		if (ref[0] !== '#') return XML_ENTITIES[ref.toLowerCase()] ?? whole;
		const point =
			ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
		return Number.isInteger(point) && point >= 0 && point <= 0x10ffff
			? String.fromCodePoint(point)
			: whole;
	});
}

/** Reads `Code` and `Message` from an S3 XML error document. */
export function parseS3Error(body: string): { code: string; message: string } {
	const code = xmlText(/<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '');
	const message = xmlText(/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '');
	return { code, message };
}

/** An S3 answer to a pre-signed request (an upload, or an error-file download) that was not 2xx. */
export function s3Error(
	node: INode,
	ctx: FailureContext,
	statusCode: number,
	body: string,
	transfer: 'upload' | 'download' = 'upload',
): NodeApiError {
	const { code, message } = parseS3Error(body);
	const expired = code === 'AccessDenied' && /expired/i.test(message);
	const download = transfer === 'download';
	const advice = S3_ADVICE[code];
	let [what, todo] =
		(download ? S3_DOWNLOAD_ADVICE[code] : undefined) ??
		(advice
			? advice(ctx)
			: [`the storage service answered HTTP ${statusCode}`, 'Run the node again later.']);
	if (expired && download) {
		what = 'the error file’s download link expired';
		todo = DOWNLOAD_LINK_ADVICE;
	} else if (expired) {
		what = 'the upload URL expired';
		todo = ctx.importId
			? `Upload URLs last one hour. Create a new import (this one, ${ctx.importId}, can be left as it is) and upload the file to its URL.`
			: 'Upload URLs last one hour. Create a new import and upload the file to its URL.';
	}
	// S3's messages usually end in a full stop already; do not double it.
	const said = message.replace(/\.+$/, '');
	const serverSays = code ? ` S3 said: ${code}${said ? ` – ${said}` : ''}.` : '';
	return apiError(
		node,
		ctx,
		`${ctx.action} failed: ${what}`,
		`${todo}${serverSays}`,
		String(statusCode),
		{ s3Code: code || 'none' },
	);
}
