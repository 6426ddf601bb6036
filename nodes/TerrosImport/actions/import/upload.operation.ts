import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { type CsvFile, getCsvFile } from '../../helpers/binary';
import { inspectCsvHead, isCsvProblem } from '../../helpers/csv';
import { uploadToSignedUrl } from '../../transport';
import { binaryPropertyField, uploadOptionFields } from './common';

export const description: INodeProperties[] = [
	binaryPropertyField(['uploadFile']),
	{
		displayName: 'Upload URL',
		name: 'uploadUrl',
		type: 'string',
		default: '={{ $json.uploadUrl }}',
		required: true,
		description:
			'The pre-signed URL from the Create operation; by default the incoming item’s uploadUrl',
		displayOptions: { show: { resource: ['import'], operation: ['uploadFile'] } },
	},
	uploadOptionFields(['uploadFile']),
];

/** Loads the item's file and checks it, before anything is sent. */
export async function prepareCsvFile(
	this: IExecuteFunctions,
	itemIndex: number,
	columnMapping?: Record<string, string>,
): Promise<CsvFile> {
	const property = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
	const options = this.getNodeParameter('uploadOptions', itemIndex, {}) as IDataObject;
	const maxMb = Number(options.maxFileSizeMb ?? 0);
	const maxBytes = maxMb > 0 ? maxMb * 1000 ** 2 : Number.POSITIVE_INFINITY;
	const file = await getCsvFile.call(this, itemIndex, property, maxBytes);
	if (options.skipChecks === true) return file;
	const head = inspectCsvHead(await file.readHead(), file.size);
	const name = file.fileName ? `"${file.fileName}"` : `in "${property}"`;
	if (isCsvProblem(head)) {
		throw new NodeOperationError(this.getNode(), `${head.message} (file ${name})`, {
			itemIndex,
			description: head.description,
		});
	}
	const missing = Object.keys(columnMapping ?? {}).filter(
		(column) => !head.header.includes(column),
	);
	if (missing.length) {
		throw new NodeOperationError(
			this.getNode(),
			`Column Mapping names ${missing.map((c) => `"${c}"`).join(', ')}, not in the file’s header`,
			{
				itemIndex,
				description: `The header has: ${head.header.slice(0, 30).join(', ')}. Fix the mapping’s CSV column names (they are case-sensitive).`,
			},
		);
	}
	return file;
}

export function checkUploadUrl(this: IExecuteFunctions, url: unknown, itemIndex: number): string {
	const text = typeof url === 'string' ? url.trim() : '';
	let ok = false;
	try {
		ok = ['https:', 'http:'].includes(new URL(text).protocol);
	} catch {
		ok = false;
	}
	if (!ok) {
		throw new NodeOperationError(this.getNode(), 'The upload URL is missing or not a URL', {
			itemIndex,
			description:
				'Use the uploadUrl returned by the Create operation. By default it is read from the incoming item, which has none.',
		});
	}
	return text;
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const url = checkUploadUrl.call(this, this.getNodeParameter('uploadUrl', itemIndex), itemIndex);
	const input = this.getInputData()[itemIndex].json;
	const importId = typeof input.importId === 'string' ? input.importId : undefined;
	const file = await prepareCsvFile.call(this, itemIndex);
	const started = Date.now();
	const result = await uploadToSignedUrl.call(this, url, file, {
		action: 'Upload file',
		itemIndex,
		importId,
	});
	return [
		{
			json: {
				importId: importId ?? null,
				uploaded: true,
				bytes: file.size,
				fileName: file.fileName ?? null,
				etag: result.etag ?? null,
				attempts: result.attempts,
				uploadMs: Date.now() - started,
			},
		},
	];
}
