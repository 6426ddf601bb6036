'use strict';

/**
 * Area 3, the storage service's answers: each S3 XML error of an upload (and of an error-file
 * download) mapped from its Code to its cause in words a user understands, keeping the status.
 */

const { startSimulator } = require('../simulator');
const {
	errorRows,
	SAMPLE_CSV,
	errorShape,
	importWithErrors,
	newImport,
	puts,
	run,
	terros,
	useSimulator,
} = require('./support');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});
afterEach(() => {
	sim.faults = [];
});

/** Uploads the sample to a fresh import with Upload File; returns the run and the import. */
async function upload(fault, { keepImportId = true, s = sim, url } = {}) {
	const target = await newImport(s);
	s.requests = [];
	if (fault) s.inject({ route: 's3:put', ...fault });
	const item = {
		...(keepImportId ? { importId: target.importId } : {}),
		uploadUrl: url ? url(target.uploadUrl) : target.uploadUrl,
		binaryText: SAMPLE_CSV,
	};
	const result = await run(s, [item], [terros('Upload', 'uploadFile')]);
	return { result, error: result.error('Upload'), importId: target.importId };
}

const s3 = (status, code, message) => ({ kind: 's3Error', status, code, message });

describe('upload: refusals that no retry can fix', () => {
	it('an expired URL: "the upload URL expired", create a new import, naming this one', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const { error, importId } = await upload();
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL expired',
			description: `Upload URLs last one hour. Create a new import (this one, ${importId}, can be left as it is) and upload the file to its URL. S3 said: AccessDenied – Request has expired.`,
			httpCode: '403',
		});
		expect(error.context.importId).toBe(importId);
		expect(puts(sim)).toHaveLength(1);
	});

	it('an expired URL without an import ID on the item: the same advice, no ID', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const { error } = await upload(undefined, { keepImportId: false });
		expect(error.description).toBe(
			'Upload URLs last one hour. Create a new import and upload the file to its URL. S3 said: AccessDenied – Request has expired.',
		);
	});

	it('an expired URL inside Import File: the message names the import and its status', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const result = await run(sim, [{ binaryText: SAMPLE_CSV }], [terros('Import', 'importFile')]);
		const record = [...sim.imports.values()].pop();
		const error = result.error('Import');
		expect(error.message).toBe(
			`Upload file failed: the upload URL expired [import ${record.importId} was created; last status New]`,
		);
		expect(error.description).toContain(`Create a new import (this one, ${record.importId},`);
	});

	it('SignatureDoesNotMatch, from a URL altered after Terros signed it', async () => {
		const { error } = await upload(undefined, {
			url: (u) => u.replace('upload.csv', 'other.csv'),
		});
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL’s signature does not match the request',
			description:
				'The URL was changed after Terros made it, or the file was sent with another content type. Use the URL exactly as Add Import returned it. S3 said: SignatureDoesNotMatch – The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			httpCode: '403',
		});
	});

	it('InvalidArgument, a second auth mechanism (e.g. a proxy adding an Authorization header)', async () => {
		const { error } = await upload(
			s3(
				400,
				'InvalidArgument',
				'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
			),
		);
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the storage service refused the request’s authentication',
			description:
				'A pre-signed URL must be used without an Authorization header. Do not add credentials or auth headers to the upload. S3 said: InvalidArgument – Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.',
			httpCode: '400',
		});
	});

	it('EntityTooLarge, from a bucket that takes less than the file', async () => {
		const small = await startSimulator({ stepMs: 5, maxUploadBytes: 100 });
		try {
			const { error } = await upload(undefined, { s: small });
			expect(errorShape(error)).toEqual({
				name: 'NodeApiError',
				message: 'Upload file failed: the file is larger than one upload may be (5 GB)',
				description:
					'Split the CSV into files under 5 GB and import each one. S3 said: EntityTooLarge – Your proposed upload exceeds the maximum allowed size.',
				httpCode: '400',
			});
		} finally {
			await small.stop();
		}
	});

	it('411 MissingContentLength', async () => {
		const { error } = await upload(
			s3(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'),
		);
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload was sent without its length',
			description:
				'The file’s size could not be determined. Make sure the binary data comes from a complete file. S3 said: MissingContentLength – You must provide the Content-Length HTTP header.',
			httpCode: '411',
		});
	});

	it('501 NotImplemented (chunked encoding)', async () => {
		const { error } = await upload(
			s3(
				501,
				'NotImplemented',
				'A header you provided implies functionality that is not implemented',
			),
		);
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message:
				'Upload file failed: the upload was sent in chunked encoding, which the storage service does not accept',
			description:
				'Send the file with a known size. If this keeps happening, report it as a bug of this node. S3 said: NotImplemented – A header you provided implies functionality that is not implemented.',
			httpCode: '501',
		});
	});

	it('AccessDenied for another reason: the URL is no longer valid', async () => {
		const { error } = await upload(s3(403, 'AccessDenied', 'Access Denied'));
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the upload URL is no longer valid',
			description:
				'Upload URLs last one hour. Create a new import and upload the file to its new URL. S3 said: AccessDenied – Access Denied.',
			httpCode: '403',
		});
	});

	it('a code the node does not know: the status, and S3’s own words decoded from XML', async () => {
		const { error } = await upload(
			s3(409, 'OperationAborted', 'A conflicting operation on the bucket’s "policy" & ACL'),
		);
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the storage service answered HTTP 409',
			description:
				'Run the node again later. S3 said: OperationAborted – A conflicting operation on the bucket’s "policy" & ACL.',
			httpCode: '409',
		});
	});

	it('an answer that is not S3 XML (a proxy’s HTML page)', async () => {
		const { error } = await upload({ kind: 'html', status: 502 });
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Upload file failed: the storage service answered HTTP 502',
			description: 'Run the node again later.',
			httpCode: '502',
		});
	});
});

describe('upload: transient refusals, once the retries are spent', () => {
	it.each([
		[
			'500 InternalError',
			{ kind: 'serverError' },
			'Upload file failed: the storage service had an internal error',
			'This is usually temporary: run the node again later. S3 said: InternalError – We encountered an internal error. Please try again.',
			'500',
		],
		[
			'503 SlowDown',
			{ kind: 'throttle' },
			'Upload file failed: the storage service is throttling uploads',
			'Wait a few minutes and run the node again. S3 said: SlowDown – Please reduce your request rate.',
			'503',
		],
		[
			'503 ServiceUnavailable',
			{ kind: 'unavailable' },
			'Upload file failed: the storage service is unavailable',
			'This is usually temporary: run the node again later. S3 said: ServiceUnavailable – Service is unable to handle request.',
			'503',
		],
		[
			'400 RequestTimeout',
			{ kind: 'requestTimeout' },
			'Upload file failed: the storage service timed out while the file was being sent',
			'Check the network between n8n and the internet, then run the node again. S3 said: RequestTimeout – Your socket connection to the server was not read from or written to within the timeout period.',
			'400',
		],
	])('%s', async (_, fault, message, description, httpCode) => {
		const { error } = await upload({ ...fault, times: 0 });
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message,
			description,
			httpCode,
		});
		expect(puts(sim)).toHaveLength(3);
	});
});

describe('error-file downloads: download wording, never upload wording', () => {
	let importId;
	beforeAll(async () => {
		importId = await importWithErrors(sim);
	});

	const rows = () => errorRows(sim, importId);

	it.each([
		[
			'an expired link',
			s3(403, 'AccessDenied', 'Request has expired'),
			'Download error file failed: the error file’s download link expired',
			'Error file links last 12 hours. Run Get Errors again to get fresh links. S3 said: AccessDenied – Request has expired.',
			'403',
		],
		[
			'a refused link',
			s3(403, 'AccessDenied', 'Access Denied'),
			'Download error file failed: the error file’s download link is no longer valid',
			'Error file links last 12 hours. Run Get Errors again to get fresh links. S3 said: AccessDenied – Access Denied.',
			'403',
		],
		[
			'an altered link',
			s3(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match'),
			'Download error file failed: the error file’s download link does not match its signature',
			'The link was changed after Terros made it. Run Get Errors again to get fresh links. S3 said: SignatureDoesNotMatch – The request signature we calculated does not match.',
			'403',
		],
		[
			'a file that is gone',
			s3(404, 'NoSuchKey', 'The specified key does not exist.'),
			'Download error file failed: the file no longer exists',
			'Error files are removed by Clean Up and expire after 12 hours. Get the error records again. S3 said: NoSuchKey – The specified key does not exist.',
			'404',
		],
	])('%s', async (_, fault, message, description, httpCode) => {
		sim.inject({ route: 's3:get', ...fault });
		const result = await rows();
		const error = result.error('Errors');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message,
			description,
			httpCode,
		});
		expect(error.context.importId).toBe(importId);
	});
});
